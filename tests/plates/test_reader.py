"""The plate reader on real crops and scenes: reads, refusals with their reason, the grammar."""
import numpy as np
import pytest

from dispatch.plates.grammar import find_plates, is_plate
from tests.plates.conftest import crops_dir, scenes_dir
from vision.plates.evaluate import images, label_of, read_image


def test_the_grammar_takes_mainland_plates_only() -> None:
    assert is_plate("豫S12345") and is_plate("京PL3N67") and is_plate("苏ED51712") and is_plate("粤B12345D")
    assert not is_plate("豫S1234")  # too short
    assert not is_plate("豫SI2345")  # plates use no I
    assert not is_plate("S123456")  # no province
    assert not is_plate("苏EX51712")  # 8 characters but no new-energy D/F where it belongs
    assert find_plates("信阳 豫s·12345 停在盲道上，旁边 豫S 1234 不全") == ["豫S12345"]


def test_real_crops_are_read_exactly_and_each_refusal_says_why(reader) -> None:
    paths = images(crops_dir())[:40]
    readings = [(label_of(path), reader.read_crop(read_image(path))) for path in paths]
    exact = sum(reading.text == truth for truth, reading in readings)
    assert exact >= 34, [(truth, r.text, r.raw) for truth, r in readings if r.text != truth]
    for truth, reading in readings:
        assert (reading.text is None) == (reading.reason is not None)
        assert reading.text is None or is_plate(reading.text)
        assert reading.crop is not None and reading.crop.shape[:2] == (72, 282)


@pytest.mark.parametrize("where", ["sky", "road"])
def test_a_crop_that_is_not_a_plate_is_refused_by_the_grammar(reader, where: str) -> None:
    scene = read_image(scenes_dir() / "test_img.jpg")
    patch = scene[20:80, 100:340] if where == "sky" else scene[1000:1060, 200:440]
    reading = reader.read_crop(patch)
    assert reading.text is None
    assert reading.reason == "not_a_plate", reading
    assert "plate grammar" in reading.detail


def test_an_unreadable_plate_gives_no_plate_and_the_reason(reader) -> None:
    scene = read_image(scenes_dir() / "pre.jpg")  # a plate 29 px wide on a 320 px traffic-camera frame
    reading = reader.read_vehicle(scene)
    assert reading.box is not None  # the detector found it
    assert reading.text is None and reading.reason in {"low_confidence", "not_a_plate"}
    blank = np.full((400, 600, 3), 128, np.uint8)
    nothing = reader.read_vehicle(blank)
    assert nothing.text is None and nothing.reason == "no_plate_found" and nothing.crop is None


def test_a_scene_is_read_end_to_end_through_the_plate_corners(reader) -> None:
    reading = reader.read_vehicle(read_image(scenes_dir() / "2.jpg"))
    assert reading.text == "藏DT5022" and reading.colour == "blue" and reading.confidence > 0.9
