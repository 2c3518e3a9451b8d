"""`models merge`: class remapping, pseudo-labels for the classes a source lacks, and the merged set on disk."""
from pathlib import Path

import cv2
import numpy as np
import pytest
import yaml
from click.testing import CliRunner

from tests.requirements import shared_path
from vision.dataset_merge import (
    MergeRecipe,
    PseudoLabelConfig,
    decide_pseudo_labels,
    load_merge_recipe,
    merge,
    paint_over,
    remap_label_lines,
)
from vision.model_cli import models
from vision.training import REPO_ROOT, dataset_names

MERGED = ["vehicle", "vendor"]
# a Girardot chip with a car beside a vendor's umbrella, and one more vendor chip
VENDOR_CHIPS = (
    "girardot_reample_chip_22_29_png.rf.6cee0084d2b948b54216e98bc9d18579.jpg",
    "girardot_reample_chip_14_32_png.rf.4664138e8e9dbfa4cd27d239690e9473.jpg",
)


def test_remap_moves_ids_and_drops_unmapped_classes() -> None:
    lines = ["0 0.5 0.5 0.1 0.2", "1 0.1 0.1 0.05 0.05", "", "2 0.2 0.3 0.1 0.1"]
    out = remap_label_lines(
        lines, source_names=["umbrella", "person", "cart"], classes={"umbrella": "vendor", "cart": "vendor"}, merged_names=MERGED
    )
    assert out == ["1 0.5 0.5 0.1 0.2", "1 0.2 0.3 0.1 0.1"]
    assert remap_label_lines(["0 0.5 0.5 0.1 0.1"], source_names=["vehicle"], classes={"vehicle": "vehicle"},
                             merged_names=MERGED) == ["0 0.5 0.5 0.1 0.1"]


def test_remap_refuses_an_id_beyond_the_source_names() -> None:
    with pytest.raises(ValueError, match="class id 3"):
        remap_label_lines(["3 0.5 0.5 0.1 0.1"], source_names=["vehicle"], classes={"vehicle": "vehicle"}, merged_names=MERGED)


def _source(**changes: object) -> dict:
    source = {"name": "vendors", "images": "x", "split": "train", "names": ["vendedor_ambulante"],
              "classes": {"vendedor_ambulante": "vendor"}, "checked_absent": {"vehicle": "looked at: none"}}
    source.update(changes)
    return source


@pytest.mark.parametrize(
    ("source", "message"),
    [
        (_source(checked_absent={}), "not labelled for \\['vehicle'\\]"),
        (_source(classes={"umbrella": "vendor"}), "not among its names"),
        (_source(classes={"vendedor_ambulante": "stall"}), "not merged classes"),
    ],
)
def test_recipe_refuses_a_class_left_unaccounted_or_misnamed(source: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        MergeRecipe.model_validate({"names": MERGED, "sources": [source]})


def test_pseudo_label_mask_band_lies_below_the_label_threshold() -> None:
    with pytest.raises(ValueError, match="mask_conf must lie below conf"):
        PseudoLabelConfig(model="m.pt", classes={"vehicle": "vehicle"}, conf=0.5, mask_conf=0.5)


def test_the_shipped_recipe_loads_and_accounts_for_every_class() -> None:
    recipe = load_merge_recipe(REPO_ROOT / "config/datasets/drone_patrol.yaml")
    assert recipe.names == MERGED
    assert {s.split for s in recipe.sources} == {"train", "val"}
    for source in recipe.sources:
        covered = set(source.classes.values()) | set(source.checked_absent)
        covered |= {c for p in source.pseudo_labels for c in p.classes.values()}
        assert covered == set(MERGED)


def test_decide_labels_confident_masks_uncertain_and_spares_source_labels() -> None:
    pseudo = PseudoLabelConfig(model="m.pt", classes={"vehicle": "vehicle"}, conf=0.5, mask_conf=0.15, skip_iou=0.3)
    boxes = np.array([[0, 0, 10, 10], [20, 20, 30, 30], [40, 40, 50, 50], [60, 60, 70, 70], [80, 80, 90, 90]], float)
    confs = np.array([0.9, 0.3, 0.1, 0.95, 0.9])
    names = ["vehicle", "vehicle", "vehicle", "vehicle", "person"]
    source_boxes = np.array([[61, 61, 71, 71]], float)  # a vendor box right on the fourth detection
    decision = decide_pseudo_labels(boxes=boxes, confs=confs, names=names, source_boxes=source_boxes, pseudo=pseudo,
                                    merged_names=MERGED, width=100, height=100)
    assert decision.labels == ["0 0.050000 0.050000 0.100000 0.100000"]
    assert [b.tolist() for b in decision.masks] == [[20, 20, 30, 30]]
    assert decision.skipped == 1


def test_a_labeller_without_conf_labels_nothing_and_masks_every_box() -> None:
    pseudo = PseudoLabelConfig(model="m.pt", classes={"vehicle": "vehicle"}, conf=None, mask_conf=0.15)
    boxes = np.array([[0, 0, 10, 10], [20, 20, 30, 30], [40, 40, 50, 50]], float)
    decision = decide_pseudo_labels(boxes=boxes, confs=np.array([0.99, 0.3, 0.1]), names=["vehicle"] * 3,
                                    source_boxes=np.zeros((0, 4)), pseudo=pseudo, merged_names=MERGED, width=100, height=100)
    assert decision.labels == [] and [b.tolist() for b in decision.masks] == [[0, 0, 10, 10], [20, 20, 30, 30]]
    with pytest.raises(ValueError, match="would do nothing"):
        PseudoLabelConfig(model="m.pt", classes={"vehicle": "vehicle"}, conf=None, mask_conf=None)


def test_paint_over_flattens_the_box_and_leaves_the_rest() -> None:
    image = np.random.default_rng(0).integers(0, 255, (40, 40, 3), dtype=np.uint8)
    out = paint_over(image, [np.array([10.0, 10.0, 20.0, 20.0])], margin=0)
    assert (out[10:20, 10:20] == out[10, 10]).all()
    assert (out[:10] == image[:10]).all() and (out[20:] == image[20:]).all()


@pytest.fixture(scope="module")
def recipe_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two real vehicle frames and two real vendor chips, the vendor chips pseudo-labelled by the aerial vehicle model."""
    vehicles = shared_path("data/aerial_vehicles/train/images")
    vendors = shared_path("data/aerial_vendors/train/images")
    model = shared_path("models/aerial_vehicle_yolo11n.pt")
    root = tmp_path_factory.mktemp("merge_sources")
    for name, folder, files in (("veh", vehicles, sorted(p.name for p in vehicles.glob("*.jpg"))[:4]), ("ven", vendors, VENDOR_CHIPS)):
        for kind in ("images", "labels"):
            (root / name / kind).mkdir(parents=True)
        for file in files:
            (root / name / "images" / file).symlink_to(folder / file)
            (root / name / "labels" / f"{Path(file).stem}.txt").symlink_to(folder.parent / "labels" / f"{Path(file).stem}.txt")
    recipe = {
        "names": MERGED,
        "sources": [
            {"name": "vehicles", "images": str(root / "veh" / "images"), "split": "train", "names": ["vehicle"],
             "classes": {"vehicle": "vehicle"}, "every": 2, "checked_absent": {"vendor": "one US street, none"}},
            {"name": "vendors", "images": str(root / "ven" / "images"), "split": "val", "names": ["vendedor_ambulante"],
             "classes": {"vendedor_ambulante": "vendor"},
             "pseudo_labels": [{"model": str(model), "classes": {"vehicle": "vehicle"}, "conf": 0.5, "mask_conf": 0.15}]},
        ],
    }
    path = root / "recipe.yaml"
    path.write_text(yaml.safe_dump(recipe))
    return path


def test_merge_writes_one_set_with_remapped_and_pseudo_labels(recipe_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "merged"
    report = merge(recipe=load_merge_recipe(recipe_file), out_dir=out)
    assert dataset_names(report.data_yaml) == {0: "vehicle", 1: "vendor"}
    data = yaml.safe_load(report.data_yaml.read_text())
    assert (data["train"], data["val"]) == ("train/images", "val/images")

    train_images = sorted((out / "train" / "images").iterdir())
    assert len(train_images) == 2 and all(p.name.startswith("vehicles__") and p.is_symlink() for p in train_images)
    for image in train_images:  # vehicle frames keep their labels, as class 0, line for line
        source = Path(image.resolve()).parent.parent / "labels" / f"{image.stem.removeprefix('vehicles__')}.txt"
        assert (out / "train" / "labels" / f"{image.stem}.txt").read_text().split() == source.read_text().split()

    val_labels = {p.stem: p.read_text().splitlines() for p in (out / "val" / "labels").iterdir()}
    assert len(val_labels) == len(VENDOR_CHIPS)
    vendor_lines = sum(1 for lines in val_labels.values() for line in lines if line.startswith("1 "))
    vehicle_lines = sum(1 for lines in val_labels.values() for line in lines if line.startswith("0 "))
    source_vendor_lines = sum(
        len((recipe_file.parent / "ven" / "labels" / f"{Path(c).stem}.txt").read_text().split()) // 5 for c in VENDOR_CHIPS
    )
    assert vendor_lines == source_vendor_lines >= 1  # every vendor box, renumbered
    counts = report.sources["vendors/val"]
    assert vehicle_lines == counts["pseudo_labels"]["vehicle"] >= 1  # the car beside the umbrella
    assert counts["labels"] == {"vehicle": vehicle_lines, "vendor": vendor_lines}

    # an uncertain detection is painted over in a copy under the source's name; the source chip stays as it was
    masked = [p for p in (out / "val" / "images").iterdir() if not p.is_symlink()]
    assert len(masked) == counts["masked_images"] and counts["masked_boxes"] >= len(masked)
    assert sorted(p.name for p in (out / "val" / "images").iterdir()) == sorted(f"vendors__{c}" for c in VENDOR_CHIPS)
    for copy in masked:
        original = cv2.imread(str(recipe_file.parent / "ven" / "images" / copy.name.removeprefix("vendors__")))
        assert cv2.imread(str(copy)).shape == original.shape and not np.array_equal(cv2.imread(str(copy)), original)
    assert (out / "merge_report.json").is_file()


def test_merge_command_prints_the_counts(recipe_file: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(models, ["merge", str(recipe_file), str(tmp_path / "merged")])
    assert result.exit_code == 0, result.output
    assert "classes: vehicle, vendor" in result.output and "vendors" in result.output
    assert (tmp_path / "merged" / "data.yaml").is_file()


def test_merge_command_names_the_unaccounted_class(tmp_path: Path) -> None:
    recipe = tmp_path / "bad.yaml"
    recipe.write_text(yaml.safe_dump({"names": MERGED, "sources": [_source(checked_absent={})]}))
    result = CliRunner().invoke(models, ["merge", str(recipe), str(tmp_path / "merged")])
    assert result.exit_code != 0 and "vehicle" in result.output
