"""The report a worker hands over: the first photo carries its frame unannotated and the object's box."""
import base64
import datetime as dt
from pathlib import Path

import cv2
import numpy as np

from config.vision import EvidenceConfig
from dispatch.detections import DetectionIn
from tests.vision.test_pipeline import ZONE, event
from vision.evidence import EvidenceWriter
from vision.handover import detection_report

START = dt.datetime(2026, 12, 2, 8, 0, tzinfo=dt.timezone.utc)


def test_first_photo_carries_the_clean_frame_and_box(tmp_path: Path) -> None:
    writer = EvidenceWriter(tmp_path, EvidenceConfig())
    ramp = np.linspace(40, 200, 300, dtype=np.uint8)  # smooth: JPEG keeps it closely
    image = np.repeat(np.repeat(ramp[None, :, None], 200, axis=0), 3, axis=2)
    writer.attach(event("start", 5.5), image, ZONE)
    update = writer.attach(event("update", 8.5), image, ZONE)
    report = DetectionIn().load(detection_report(update, source_kind="camera", media_start=START))
    first, second = report["photos"]
    assert first["box_xyxy"] == [100.0, 80.0, 160.0, 120.0] and "box_xyxy" not in second
    frame = cv2.imdecode(np.frombuffer(base64.b64decode(first["frame_jpeg_base64"]), np.uint8), cv2.IMREAD_COLOR)
    photo = cv2.imdecode(np.frombuffer(base64.b64decode(first["jpeg_base64"]), np.uint8), cv2.IMREAD_COLOR)
    # the frame is the picture as seen (JPEG noise only); the photo has the box drawn on it, and its caption in a
    # band below the picture
    assert np.abs(frame.astype(int) - image).mean() < 3
    assert photo.shape[0] > image.shape[0] and photo.shape[1] == image.shape[1]
    picture = photo[:image.shape[0]].astype(int)
    assert np.abs(picture - image).mean() > np.abs(frame.astype(int) - image).mean() + 0.1
