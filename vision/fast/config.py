"""Settings of the fast path: the OpenVINO runtime and the multi-stream runner.

Meant to become `detector.runtime` and a `runtime:` section of config/vision.yaml; until then the
defaults here are the configuration and the benchmark overrides them from its command line.
"""
from typing import Literal

from pydantic import Field

from config.base import StrictModel


class RuntimeConfig(StrictModel):
    performance_hint: Literal["LATENCY", "THROUGHPUT"] = Field(
        "THROUGHPUT", description="OpenVINO CPU hint: one request on every core, or several requests side by side"
    )
    num_streams: int = Field(
        0, ge=0, le=64, description="OpenVINO CPU streams (requests run in parallel); 0 = let the hint choose"
    )
    num_threads: int = Field(0, ge=0, le=256, description="OpenVINO inference threads; 0 = every core")
    infer_requests: int = Field(
        0, ge=0, le=64, description="requests kept in flight by detect_many; 0 = OpenVINO's optimal number"
    )
    input_shape: Literal["square", "rect"] = Field(
        "square",
        description="square: imgsz x imgsz, boxes equal Ultralytics' predict on the IR; rect: the smallest multiple "
        "of 32 around the letterboxed frame (640x384 for 16:9), as Ultralytics does for .pt models: fewer pixels",
    )
    max_det: int = Field(300, ge=1, le=10000, description="most boxes kept per image after NMS (Ultralytics' default)")
    max_nms: int = Field(30000, ge=1, le=100000, description="most candidates entering NMS (Ultralytics' default)")


class StreamsConfig(StrictModel):
    batch: int = Field(4, ge=1, le=64, description="most frames of different sources run through one detect_many call")
    queue_frames: int = Field(8, ge=1, le=1024, description="decoded frames waiting for the detector, all sources")
    decode_threads: int = Field(2, ge=1, le=64, description="threads decoding sources (each owns a share of them)")
    drop_when_full: bool = Field(
        False, description="live streams: drop and count a frame when the queue is full; files: wait for room"
    )
