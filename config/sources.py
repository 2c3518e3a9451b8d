"""Camera and drone sources a vision worker runs, each with its zones, model and ground mapping."""
from pathlib import Path
from typing import Literal

import yaml
from pydantic import Field, model_validator

from config.base import StrictModel, reading_settings_file
from config.vision import InputShape, TilesConfig

LonLat = tuple[float, float]
Pixel = tuple[float, float]


class HomographyConfig(StrictModel):
    pixels: list[Pixel] = Field(min_length=4, description="control points in the full-size frame")
    lonlats: list[LonLat] = Field(min_length=4, description="the same points on the ground, WGS-84 lon/lat")

    @model_validator(mode="after")
    def pairs(self) -> "HomographyConfig":
        if len(self.pixels) != len(self.lonlats):
            raise ValueError("homography: as many lonlats as pixels are needed")
        return self


class TelemetryConfig(StrictModel):
    srt: str = Field(min_length=1, description="the flight's DJI SRT subtitle file (one record per video frame)")
    focal_35mm: float = Field(24.0, gt=1, le=1000, description="35 mm-equivalent focal length of the camera")


class SourceConfig(StrictModel):
    id: str = Field(min_length=1, max_length=40, pattern=r"^[\w.-]+$", description="source id, unique")
    kind: Literal["camera", "drone"] = Field(description="ticket source of its reports")
    media: Literal["file", "stream", "folder", "image"] = Field(description="what uri names")
    uri: str = Field(min_length=1, description="file, folder or rtsp:// / http:// URL")
    analysis_fps: float = Field(2.0, gt=0, le=30, description="analysed frames per second")
    loop: bool = Field(False, description="start a file again when it ends (demo feeds)")
    zones: str = Field(description="zones file (config/zones/*.yaml) whose source_id is this id")
    model: str | None = Field(None, description="model for this source; null = the vision detector's model")
    input_shape: InputShape | None = Field(
        None, description="openvino runtime: square or rect network input for this source (rect: fewer pixels, for "
        "views of large objects such as street cameras); null = detector.openvino.input_shape"
    )
    tiles: TilesConfig | None = Field(
        None, description="tiled detection for this source (small far objects: a drone's oblique view); "
        "null = detector.tiles"
    )
    homography: HomographyConfig | None = Field(None, description="fixed camera: pixel → ground mapping")
    telemetry: TelemetryConfig | None = Field(None, description="drone: per-frame position and gimbal")
    stabilize: bool = Field(False, description="a moving camera: follow its ego-motion so parked objects keep still")
    times: str | None = Field(
        None, description="media: folder: CSV `image,time` giving each still's time (stills taken at irregular "
        "intervals); null = stills analysis_fps apart"
    )

    @model_validator(mode="after")
    def one_mapping(self) -> "SourceConfig":
        if self.homography is not None and self.telemetry is not None:
            raise ValueError(f"source {self.id}: a homography or telemetry, not both")
        if self.tiles is not None and self.tiles.enabled and self.input_shape == "rect":
            raise ValueError(f"source {self.id}: tiles run square windows; input_shape rect does not apply")
        return self


class SourcesConfig(StrictModel):
    sources: list[SourceConfig] = Field([], description="what the worker watches")

    @model_validator(mode="after")
    def unique_ids(self) -> "SourcesConfig":
        ids = [source.id for source in self.sources]
        if len(ids) != len(set(ids)):
            raise ValueError(f"source ids must be unique: {ids}")
        return self


def load_sources(path: Path) -> SourcesConfig:
    """The sources a worker runs; ConfigFileError names the file and the problem on one line."""
    with reading_settings_file(path):
        return SourcesConfig.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")) or {})


class WorkerConfig(StrictModel):
    sources_file: str | None = Field(None, description="sources YAML a worker runs; GRIDPATROL_SOURCES overrides")
    evidence_dir: str = Field("var/vision-evidence", description="where a worker writes its evidence photos")
    health_every_s: float = Field(5.0, gt=0, le=300, description="how often a worker posts its sources' health")
