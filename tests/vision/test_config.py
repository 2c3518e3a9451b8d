"""Vision settings and zone files: shipped files load, typos and bad values fail naming the field."""
from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from config.vision import VisionConfig, load_vision_config, load_zones

ZONES_DIR = Path(__file__).resolve().parents[2] / "config" / "zones"


def test_vision_yaml_matches_the_model_defaults() -> None:
    # The YAML documents every key; the model holds the same defaults so either can be read alone.
    assert load_vision_config() == VisionConfig()


def test_class_map_sends_coco_and_custom_classes_to_our_kinds() -> None:
    class_map = load_vision_config().detector.class_map
    assert {name for name, kind in class_map.items() if kind == "vehicle"} >= {"car", "truck", "bus", "motorcycle"}
    assert {name for name, kind in class_map.items() if kind == "stall"} == {"umbrella", "dining table", "stall",
                                                                            "tricycle cart"}  # fmt: skip
    assert not {"chair", "bench", "suitcase", "handbag", "backpack"} & class_map.keys()  # no stall: people sit, carry
    assert class_map["person"] == "person" and class_map["vendor"] == "vendor"
    # a stall sign needs more than ByteTrack's weak boxes: a white table top was an "umbrella" at 0.2-0.29
    class_conf = load_vision_config().detector.class_conf
    assert class_conf["umbrella"] > 0.29 and class_conf["stall"] > load_vision_config().detector.conf
    assert load_vision_config().events.categories == {"illegal_parking": "0505", "street_vending": "0501"}


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"detector": {"modle": "x.pt"}}, "modle"),  # a typo
        ({"detector": {"class_map": {"car": "automobile"}}}, "class_map"),  # not one of our kinds
        ({"detector": {"imgsz": 650}}, "imgsz"),  # not a multiple of 32
        ({"detector": {"class_conf": {"umbrella": 0.05}}}, "class_conf"),  # under detector.conf: keeps nothing out
        ({"detector": {"device": "gpu"}}, "device"),
        ({"analysis_fps": 0}, "analysis_fps"),
        ({"presence": {"enter_frames": 0}}, "enter_frames"),
        ({"events": {"categories": {"illegal_parking": "0505"}}}, "street_vending"),
    ],
)
def test_bad_settings_fail_naming_the_field(overrides: dict, field: str) -> None:
    with pytest.raises(ValidationError, match=field):
        load_vision_config(overrides=overrides)


@pytest.mark.parametrize("path", sorted(ZONES_DIR.glob("*.yaml")), ids=lambda p: p.stem)
def test_shipped_zone_files_load(path: Path) -> None:
    zones = load_zones(path, load_vision_config())
    assert zones.zones and all(zone.dwell_s > 0 for zone in zones.zones)


def write_zones(tmp_path: Path, zones: list[dict]) -> Path:
    path = tmp_path / "zones.yaml"
    path.write_text(yaml.safe_dump({"source_id": "cam-1", "zones": zones}), encoding="utf-8")
    return path


ZONE = {"id": "a", "kind": "no_parking", "polygon": [[0, 0], [10, 0], [10, 10]]}


@pytest.mark.parametrize(
    "zones, message",
    [
        ([ZONE, ZONE], "zone ids repeat"),
        ([ZONE | {"kind": "no_standing"}], "kind"),
        ([ZONE | {"dwell": 5}], "dwell"),  # a typo of dwell_s
        ([ZONE | {"stationary_unit": "metres"}], "stationary_unit"),
        ([ZONE | {"holes": [[[1, 1], [2, 2]]]}], "hole"),
    ],
)
def test_bad_zone_files_fail_clearly(tmp_path: Path, zones: list[dict], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        load_zones(write_zones(tmp_path, zones), load_vision_config())


def test_a_zone_needs_a_class_its_rule_watches(tmp_path: Path) -> None:
    people_only = load_vision_config(overrides={"detector": {"class_map": {"person": "person"}}})
    with pytest.raises(ValueError, match="needs a class mapped to"):
        load_zones(write_zones(tmp_path, [ZONE]), people_only)
