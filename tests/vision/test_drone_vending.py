"""The drone rule end to end: `python -m vision analyze` on drone stills with the committed drone-patrol model.

The stills are real validation chips (Bogotá orthophotos the model never trained on) shown as a hovering
drone would see them: each still shifted a few pixels from the last (the drone drifts), one every second,
with a nadir flight log. A vendor's umbrella held still for the zone's dwell is a street-vending event
with two photos and a place on the map; a chip with no vendor gives none.
"""
import csv
import json
from pathlib import Path

import cv2
import numpy as np
import pytest
import yaml

from tests.requirements import shared_path
from tests.vision.test_end_to_end import hovering_srt
from vision.analyze import main as analyze_main
from vision.training import REPO_ROOT

MODEL = REPO_ROOT / "vision/models/drone_patrol/drone_patrol_yolo11n_int8_openvino_model"
CHIPS = "data/media/street_vendors_aerial_bogota/test/images"
VENDORS_CHIP = "ortofoto_bogota_kennedy_2021_rgb__chip_39_62_png.rf.ebf6c460c405cd6e8b0e44c65af2fe39.jpg"  # 10 vendors
EMPTY_CHIP = "igac_reample_chip_5_4_png.rf.5dc98e135ef1170fe3f6c9bc0dcf23f4.jpg"  # a road, a red car, grass: no vendor
STILLS = 10
DRONE_LON, DRONE_LAT, HEIGHT_M = 114.0624462, 32.1215883, 60.0


def drifting_stills(chip: Path, folder: Path, *, step_px: tuple[float, float] = (2.0, 1.5)) -> Path:
    """STILLS copies of `chip`, the k-th shifted k*step_px (edges mirrored), and their times CSV (1 s apart)."""
    folder.mkdir(parents=True)
    image = cv2.imread(str(chip))
    rows = []
    for k in range(STILLS):
        shift = np.float32([[1, 0, k * step_px[0]], [0, 1, k * step_px[1]]])
        moved = cv2.warpAffine(image, shift, (image.shape[1], image.shape[0]), borderMode=cv2.BORDER_REFLECT)
        name = f"still_{k:02d}.jpg"
        cv2.imwrite(str(folder / name), moved, [cv2.IMWRITE_JPEG_QUALITY, 95])
        rows.append({"image": name, "time": float(k)})
    times = folder.parent / f"{folder.name}_times.csv"
    with times.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=["image", "time"])
        writer.writeheader()
        writer.writerows(rows)
    return times


def run_analyze(stills: Path, times: Path, out: Path, tmp_path: Path) -> list[dict]:
    zones = tmp_path / "zones.yaml"  # the whole picture is pavement where vending is not allowed
    zones.write_text(yaml.safe_dump({"source_id": "drone_market", "zones": [
        {"id": "market_street", "kind": "no_vending", "polygon": [[0, 0], [640, 0], [640, 640], [0, 640]],
         "dwell_s": 3, "second_photo_after_s": 3, "stationary_tolerance": 0.5, "stationary_unit": "box"}]}))
    srt = tmp_path / "hover.SRT"
    srt.write_text(hovering_srt(DRONE_LON, DRONE_LAT, seconds=STILLS + 1, height_m=HEIGHT_M, pitch=-90, yaw=0))
    code = analyze_main(["analyze", str(stills), "--times", str(times), "--model", str(MODEL), "--zones", str(zones),
                         "--out", str(out), "--srt", str(srt), "--stabilize"])
    assert code == 0
    return json.loads((out / "events.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def model() -> Path:
    if not (MODEL / "metadata.yaml").is_file():
        pytest.fail(f"the committed drone-patrol model is missing: {MODEL}", pytrace=False)
    assert yaml.safe_load((MODEL / "metadata.yaml").read_text())["names"] == {0: "vehicle", 1: "vendor"}
    return MODEL


def test_vendors_held_still_become_located_vending_events_with_two_photos(model: Path, tmp_path: Path) -> None:
    times = drifting_stills(shared_path(CHIPS) / VENDORS_CHIP, tmp_path / "stills")
    events = run_analyze(tmp_path / "stills", times, tmp_path / "out", tmp_path)
    vending = [e for e in events if e["rule"] == "street_vending"]
    starts = [e for e in vending if e["phase"] == "start"]
    assert starts, f"no street-vending event; events: {[(e['rule'], e['phase']) for e in events]}"
    assert all(e["category"] == "0501" and e["zone_id"] == "market_street" for e in starts)
    # the second photo follows second_photo_after_s later, the same stall still there
    with_two = [e for e in vending if len(e["evidence_paths"]) == 2]
    assert with_two and all(Path(p).is_file() for e in with_two for p in e["evidence_paths"])
    # nadir from 60 m with a 24 mm lens: the chip spans about 90 m around the point under the drone
    for event in vending:
        lon, lat = event["location"]
        north_m, east_m = (lat - DRONE_LAT) * 111_000, (lon - DRONE_LON) * 94_200
        assert abs(north_m) < 60 and abs(east_m) < 60, (north_m, east_m)
    # and the place follows the box: two stalls far apart in the picture are far apart on the map
    if len(starts) >= 2:
        points = np.array([e["location"] for e in starts])
        assert np.ptp(points[:, 1]) * 111_000 + np.ptp(points[:, 0]) * 94_200 > 1.0


def test_a_chip_without_vendors_gives_no_vending_event(model: Path, tmp_path: Path) -> None:
    times = drifting_stills(shared_path(CHIPS) / EMPTY_CHIP, tmp_path / "stills")
    events = run_analyze(tmp_path / "stills", times, tmp_path / "out", tmp_path)
    assert [e for e in events if e["rule"] == "street_vending"] == []


def test_the_drone_patrol_example_source_runs_the_committed_model(model: Path) -> None:
    from config.sources import load_sources
    from config.vision import load_vision_config, load_zones

    source = load_sources(REPO_ROOT / "config/examples/drone_patrol_sources.yaml").sources[0]
    assert source.kind == "drone" and source.stabilize
    assert (REPO_ROOT / source.model).resolve() == model.resolve()
    zones = load_zones(REPO_ROOT / source.zones, load_vision_config())
    assert zones.source_id == source.id and {z.kind for z in zones.zones} == {"no_parking", "no_vending"}
    # every class of the model reaches a rule through the class map
    class_map = load_vision_config().detector.class_map
    assert {class_map[name] for name in ("vehicle", "vendor")} == {"vehicle", "vendor"}
