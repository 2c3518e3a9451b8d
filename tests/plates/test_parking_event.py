"""A parking event on a real still: the plate read on its evidence photos travels with the event and its report."""
import base64
import datetime as dt
from pathlib import Path

import cv2
import numpy as np
from rapidfuzz.distance import Levenshtein

from config.vision import ZoneConfig
from dispatch.detections import DetectionIn
from tests.plates.conftest import scenes_dir
from tests.vision.conftest import detector, vision_config  # noqa: F401  (the shared YOLO model, once per run)
from vision.evidence import EvidenceWriter
from vision.handover import detection_report
from vision.pipeline import Pipeline
from vision.plates.evaluate import read_image
from vision.plates.evidence import PlateEvidence
from vision.sources import Frame
from vision.zones import Zone

# The white new-energy car parked at the front of test_img.jpg (1920x1080): the zone holds its wheels.
KERB = ZoneConfig(id="kerb", kind="no_parking", polygon=[(500, 650), (1919, 650), (1919, 1079), (500, 1079)],
                  dwell_s=1.0, second_photo_after_s=2.0)


def run_still(image: np.ndarray, vision_config, detector, reader, out: Path, seconds: float = 6.0) -> list:
    """The same still as frames 0.5 s apart through the whole pipeline, plates read on the evidence photos."""
    plates = PlateEvidence(reader, out, vision_config.evidence.jpeg_quality)
    pipeline = Pipeline(source_id="cam-plate", detector=detector, zones=[Zone.from_config(KERB)], config=vision_config,
                        evidence=EvidenceWriter(out, vision_config.evidence, plates=plates))
    events = []
    for index in range(int(seconds / 0.5)):
        events += pipeline.process(Frame(image=image, timestamp_s=index * 0.5, index=index, source_id="cam-plate"))
    return events + pipeline.finish()


def test_a_parking_event_on_a_still_with_a_readable_plate_carries_it(vision_config, detector, reader,
                                                                      tmp_path: Path) -> None:
    events = run_still(read_image(scenes_dir() / "test_img.jpg"), vision_config, detector, reader, tmp_path)
    assert [e.phase for e in events][:2] == ["start", "update"] and events[-1].phase == "end"
    start, end = events[0], events[-1]
    assert start.plate is not None and start.plate["text"] is not None, start.plate
    plate = end.plate
    # 苏ED51712 by eye; LPRNet (trained on blue plates) may miss one character of this green one, no more
    assert Levenshtein.distance(plate["text"], "苏ED51712") <= 1 and plate["colour"] == "green", plate
    assert plate["read_ms"] > 0 and len(end.evidence_paths) == 2
    crop = cv2.imread(plate["crop_path"])
    assert crop.shape[:2] == (72, 282) and crop[:, :, 1].mean() > crop[:, :, 2].mean()  # a green plate
    report = detection_report(end, source_kind="camera", media_start=dt.datetime.now(dt.timezone.utc))
    loaded = DetectionIn().load(report)
    assert loaded["plate"]["text"] == plate["text"] and base64.b64decode(loaded["plate"]["crop_jpeg_base64"])[:2] == b"\xff\xd8"


def test_a_car_whose_plate_cannot_be_read_gives_an_event_without_a_plate_and_why(vision_config, detector, reader,
                                                                                  tmp_path: Path) -> None:
    image = read_image(scenes_dir() / "test_img.jpg")
    x1, y1, x2, y2 = 1740, 740, 1890, 865  # the plate, blurred past reading (mud, rain, a motion smear)
    image[y1:y2, x1:x2] = cv2.GaussianBlur(image[y1:y2, x1:x2], (0, 0), 12)
    events = run_still(image, vision_config, detector, reader, tmp_path, seconds=3.0)
    plate = events[0].plate
    assert plate["text"] is None and plate["reason"] in {"no_plate_found", "not_a_plate", "low_confidence"}
    assert plate["reason"] == "no_plate_found" or plate["detail"]
    report = detection_report(events[0], source_kind="camera", media_start=dt.datetime.now(dt.timezone.utc))
    assert DetectionIn().load(report)["plate"]["reason"] == plate["reason"]
