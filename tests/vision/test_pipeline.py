"""Pipeline wiring, evidence photos and event serialisation."""
import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from config.vision import EvidenceConfig, VisionConfig, ZoneConfig, load_zones
from tests.requirements import shared_path
from vision.detector import Detector
from vision.events import ViolationEvent
from vision.evidence import EvidenceWriter
from vision.pipeline import Pipeline
from vision.sources import VideoFileSource
from vision.zones import Zone

ZONES_FILE = Path(__file__).resolve().parents[2] / "config" / "zones" / "cctv_street_no_parking_zone.yaml"
ZONE = Zone.from_config(ZoneConfig(id="kerb", kind="no_parking", polygon=[(50, 50), (250, 50), (250, 150), (50, 150)]))


def event(phase: str, last_seen_s: float) -> ViolationEvent:
    return ViolationEvent(
        event_id="cam-1:illegal_parking:kerb#1:500", source_id="cam-1", rule="illegal_parking", category="0505",
        zone_id="kerb", phase=phase, started_at_s=0.5, last_seen_s=last_seen_s, dwell_s=last_seen_s - 0.5,
        box_xyxy=(100.0, 80.0, 160.0, 120.0), ground_point_px=(130.0, 120.0), track_ids=(3, 8), confidence=0.5,
    )  # fmt: skip


def test_two_photos_per_event_and_the_end_keeps_them(tmp_path: Path) -> None:
    writer = EvidenceWriter(tmp_path, EvidenceConfig())
    image = np.full((200, 300, 3), 90, np.uint8)
    start = writer.attach(event("start", 5.5), image, ZONE)
    first_update = writer.attach(event("update", 8.5), image, ZONE)
    later_update = writer.attach(event("update", 38.5), image, ZONE)
    end = writer.attach(event("end", 40.0), image, ZONE)
    assert len(start.evidence_paths) == 1
    assert first_update.evidence_paths[0] == start.evidence_paths[0] and len(first_update.evidence_paths) == 2
    assert later_update.evidence_paths == end.evidence_paths == first_update.evidence_paths
    photo = cv2.imread(end.evidence_paths[0])
    assert photo.shape[1:] == image.shape[1:] and photo.shape[0] > image.shape[0]  # a caption band below
    # The box is drawn in red on its left edge, the caption band is black, the rest is untouched.
    assert int(photo[100, 100, 2]) - int(photo[100, 100, 0]) > 40
    assert photo[image.shape[0] + 1, 150].max() < 40 and abs(int(photo[180, 280].mean()) - 90) <= 3


def test_to_dict_is_json_ready() -> None:
    data = json.loads(json.dumps(event("start", 5.5).to_dict()))
    assert data["box_xyxy"] == [100.0, 80.0, 160.0, 120.0] and data["track_ids"] == [3, 8]
    assert data["location"] is None and data["evidence_paths"] == [] and data["category"] == "0505"


@pytest.mark.model
@pytest.mark.footage
def test_process_locates_events_through_the_callable(
    detector: Detector, vision_config: VisionConfig, tmp_path: Path
) -> None:
    # The first 12 s of the street clip: the blue car stops in the zone at about 5 s.
    zones = [Zone.from_config(z) for z in load_zones(ZONES_FILE, vision_config).zones]
    asked: list[tuple[float, float]] = []

    def locate(pixel: tuple[float, float]) -> tuple[float, float] | None:
        asked.append(pixel)
        return 126.9 + pixel[0] * 1e-6, 37.5 - pixel[1] * 1e-6

    pipeline = Pipeline(source_id="cctv_street", detector=detector, zones=zones, config=vision_config,
                        evidence=EvidenceWriter(tmp_path, vision_config.evidence), locate=locate)  # fmt: skip
    source = VideoFileSource(shared_path("data/media/cctv_street_no_parking_zone.mp4"), source_id="cctv_street",
                             analysis_fps=vision_config.analysis_fps)  # fmt: skip
    events: list[ViolationEvent] = []
    frames = 0
    with source:
        while (frame := source.read()) is not None and frame.timestamp_s <= 12:
            events += pipeline.process(frame)
            frames += 1
    events += pipeline.finish()
    assert [e.phase for e in events] == ["start", "end"]
    assert events[0].location == pytest.approx((126.9 + asked[0][0] * 1e-6, 37.5 - asked[0][1] * 1e-6))
    assert asked[0] == events[0].ground_point_px
    assert pipeline.report.frames_analysed == frames and pipeline.report.events == 1
