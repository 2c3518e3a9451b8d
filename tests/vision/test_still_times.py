"""Still sequences at irregular intervals: a times CSV (image,time) gives each still's real time."""
from pathlib import Path

import cv2
import numpy as np
import pytest

from tests.requirements import shared_path
from vision.sources import ImageFolderSource, open_source, read_still_times

GROUNDTRUTH = Path(__file__).resolve().parents[2] / "bench" / "groundtruth"


def write_stills(folder: Path, names: list[str]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for value, name in enumerate(names):
        cv2.imwrite(str(folder / name), np.full((8, 8, 3), value * 40, np.uint8))


def test_the_stall_stills_come_in_the_files_order_at_their_burned_in_times() -> None:
    folder = shared_path("data/media/street_footage/danang-pavement-stall-stills")
    source = ImageFolderSource(folder, source_id="stall", times_file=GROUNDTRUTH / "danang-pavement-stall-stills.times.csv")
    with source:
        frames = [(frame.index, frame.timestamp_s, frame.image.shape) for frame in iter(source.read, None)]
    assert len(frames) == 91
    # OSD 16:29:14, 16:29:27, 16:29:28 ... 16:42:37: steps of 0-66 s, kept as they are.
    assert [t for _, t, _ in frames[:3]] == [0.0, 13.0, 14.0] and frames[-1][1] == 803.0
    assert all(b[1] >= a[1] for a, b in zip(frames, frames[1:]))
    assert {shape for *_, shape in frames} == {(640, 640, 3)}


def test_seconds_or_iso_times_and_the_file_decides_the_order(tmp_path: Path) -> None:
    write_stills(tmp_path / "stills", ["b.jpg", "a.jpg", "c.jpg"])
    times = tmp_path / "times.csv"
    times.write_text("# a comment\nimage,time\nb.jpg,2024-01-01T10:00:00\na.jpg,2024-01-01T10:00:07.5\n"
                     "c.jpg,2024-01-01T10:01:00\n", encoding="utf-8")
    paths, seconds = read_still_times(times, tmp_path / "stills")
    assert [p.name for p in paths] == ["b.jpg", "a.jpg", "c.jpg"] and seconds == [0.0, 7.5, 60.0]
    times.write_text("image,time\na.jpg,3\nc.jpg,4.25\n", encoding="utf-8")
    source = open_source({"id": "s", "kind": "folder", "uri": str(tmp_path / "stills"), "times": str(times)})
    with source:
        assert [(f.timestamp_s, f.index) for f in iter(source.read, None)] == [(0.0, 0), (1.25, 1)]


@pytest.mark.parametrize(("body", "message"), [
    ("file,when\na.jpg,0\n", "needs a header `image,time`"),
    ("image,time\na.jpg,0\nmissing.jpg,1\n", "row 3: image not found"),
    ("image,time\na.jpg,5\nb.jpg,4\n", "row 3: time goes back"),
    ("image,time\na.jpg,soon\n", "row 2: time 'soon' is neither seconds nor ISO"),
])
def test_a_bad_times_file_is_refused_naming_the_file_and_row(tmp_path: Path, body: str, message: str) -> None:
    write_stills(tmp_path, ["a.jpg", "b.jpg"])
    times = tmp_path / "times.csv"
    times.write_text(body, encoding="utf-8")
    with pytest.raises((ValueError, FileNotFoundError), match="times.csv") as raised:
        ImageFolderSource(tmp_path, source_id="s", times_file=times)
    assert message in str(raised.value)
