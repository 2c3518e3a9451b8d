"""Where a drone's detection is: the frame's telemetry record and the camera model project it to the ground."""
from pathlib import Path

from vision.geo import Intrinsics, project_to_ground
from vision.sources import Frame
from vision.telemetry import TelemetryRecord, parse_srt, record_at


class TelemetryMapper:
    """Pixel → (lon, lat) for the frame last shown to `at()`; None where the flight log has no record.

    >>> mapper = TelemetryMapper.from_srt(Path("flight.SRT"), focal_35mm=24)
    >>> mapper.at(frame); mapper((480.0, 300.0))   # (lon, lat) under that pixel
    """

    def __init__(self, records: list[TelemetryRecord], *, focal_35mm: float) -> None:
        self.records = records
        self.focal_35mm = focal_35mm
        self.record: TelemetryRecord | None = None
        self.image_size: tuple[int, int] = (0, 0)

    @classmethod
    def from_srt(cls, path: Path, *, focal_35mm: float) -> "TelemetryMapper":
        return cls(parse_srt(path), focal_35mm=focal_35mm)

    def at(self, frame: Frame) -> None:
        """Use the record covering this frame's video time."""
        self.record = record_at(self.records, frame.timestamp_s)
        height, width = frame.image.shape[:2]
        self.image_size = (width, height)

    def __call__(self, pixel: tuple[float, float]) -> tuple[float, float] | None:
        if self.record is None:
            return None
        intrinsics = Intrinsics.from_focal_35mm(self.focal_35mm, image_size=self.image_size)
        return project_to_ground(pixel, image_size=self.image_size, record=self.record, intrinsics=intrinsics)
