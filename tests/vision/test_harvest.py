"""Reviewed detections → YOLO data set → `models train` (smoke test on a few real aerial frames)."""
import json
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest
import yaml
from click.testing import CliRunner

from tests.requirements import shared_path
from vision.harvest import HarvestConfig, HarvestError, crop_around, harvest, split_of
from vision.model_cli import models
from vision.training import TrainConfig, TrainingConfig

IMGSZ = 64  # the smallest sensible size: the smoke test checks the hand-over, not the model


def yolo_box(label_file: Path, width: int, height: int) -> list[float]:
    """The first box of a YOLO label file in pixels xyxy."""
    _, xc, yc, w, h = (float(v) for v in label_file.read_text().split()[:5])
    return [(xc - w / 2) * width, (yc - h / 2) * height, (xc + w / 2) * width, (yc + h / 2) * height]


@pytest.fixture
def export_dir(tmp_path: Path) -> Path:
    """What `webapp review export` writes: three real frames, two confirmed vehicles and one false detection."""
    source = shared_path("data/aerial_vehicles/train")
    root = tmp_path / "export"
    (root / "frames").mkdir(parents=True)
    lines = []
    for number, image in enumerate(sorted((source / "images").glob("*.jpg"))[:3], start=1):
        height, width = cv2.imread(str(image)).shape[:2]
        shutil.copyfile(image, root / "frames" / f"{number}.jpg")
        box = yolo_box(source / "labels" / f"{image.stem}.txt", width, height)
        verdict, reason = ("rejected", "false_detection") if number == 3 else ("confirmed", None)
        lines.append({"image": f"frames/{number}.jpg", "box_xyxy": box, "verdict": verdict, "reason": reason,
                      "rule": "illegal_parking", "event_id": f"cam-1:illegal_parking:{number}:0"})
    (root / "reviews.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines))
    return root


def test_harvest_then_train_one_epoch(export_dir: Path, tmp_path: Path) -> None:
    config = TrainingConfig(runs_dir=str(tmp_path / "runs"), harvest=HarvestConfig(val_fraction=0.34),
                            train=TrainConfig(model=str(shared_path("models/yolo11n_coco_rebuilt.pt")), imgsz=IMGSZ,
                                              batch=2, cache=False, workers=0))
    config_file = tmp_path / "training.yaml"
    config_file.write_text(yaml.safe_dump(config.model_dump(mode="json")))
    out = tmp_path / "harvested"
    runner = CliRunner()
    harvested = runner.invoke(models, ["harvest", str(export_dir), str(out), "--config", str(config_file)],
                              catch_exceptions=False)
    assert harvested.exit_code == 0, harvested.output
    data = yaml.safe_load((out / "data.yaml").read_text())
    assert data["names"] == {0: "vehicle"} and data["train"] == "train/images" and data["val"] == "val/images"
    labels = {p.stem: p.read_text() for p in out.rglob("labels/*.txt")}
    assert labels["3"] == "" and labels["1"].startswith("0 ") and labels["2"].startswith("0 ")
    assert len(list(out.rglob("images/*.jpg"))) == 3 and len(list((out / "val" / "images").iterdir())) == 1
    trained = runner.invoke(models, ["train", str(out / "data.yaml"), "--epochs", "1", "--imgsz", str(IMGSZ),
                                     "--name", "harvest", "--config", str(config_file)], catch_exceptions=False)
    assert trained.exit_code == 0, trained.output
    best = Path(trained.output.split("best: ")[1].split()[0])
    from ultralytics import YOLO

    assert best.is_file() and YOLO(str(best)).names == {0: "vehicle"}


def test_crop_keeps_the_box_with_its_margin_inside_the_frame() -> None:
    image = np.zeros((100, 200, 3), np.uint8)
    crop, box = crop_around(image, [10, 20, 50, 40], margin=0.5)
    assert crop.shape[:2] == (40, 70)  # rows 10..50, columns 0 (clipped from -10)..70
    assert box == [10, 10, 50, 30]
    _, box = crop_around(image, [150, 80, 210, 110], margin=0.0)  # a box beyond the frame is clipped to it
    assert box == [0, 0, 50, 20]


def test_labels_follow_the_verdict(export_dir: Path, tmp_path: Path) -> None:
    lines = [json.loads(line) for line in (export_dir / "reviews.jsonl").read_text().splitlines()]
    lines[0].update(verdict="rejected", reason="not_a_violation")  # a real car, only no violation: still a car
    (export_dir / "reviews.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines))
    result = harvest(export_dir=export_dir, out_dir=tmp_path / "out", config=HarvestConfig(val_fraction=0.0))
    assert result.counts == {"train": {"objects": 2, "hard_negatives": 1}, "val": {"objects": 0, "hard_negatives": 0}}
    assert yaml.safe_load(result.data_yaml.read_text())["val"] == "train/images"  # nothing held out
    label = (tmp_path / "out" / "train" / "labels" / "1.txt").read_text().split()
    crop = cv2.imread(str(tmp_path / "out" / "train" / "images" / "1.jpg"))
    # margin 0.5 each side: the box fills half the crop's width and height, in its middle (edges may clip)
    assert label[0] == "0" and 0.3 < float(label[3]) <= 1.0 and crop is not None


def test_split_is_stable_and_keeps_one_to_train() -> None:
    reviews = [{"image": f"frames/{n}.jpg", "event_id": f"e{n}"} for n in range(10)]
    assert split_of(reviews, 0.2) == split_of(list(reversed(reviews)), 0.2)
    assert sorted(split_of(reviews, 0.2).values()).count("val") == 2
    assert list(split_of(reviews[:1], 0.9).values()) == ["train"]


@pytest.mark.parametrize(("lines", "message"), [
    (None, "reviews.jsonl: not found"),
    (["{not json"], "reviews.jsonl:1: needs image"),
    ([{"image": "frames/1.jpg", "box_xyxy": [1, 2, 3], "verdict": "confirmed"}], "reviews.jsonl:1: needs image"),
    ([], "no reviewed detections"),
    ([{"image": "frames/1.jpg", "box_xyxy": [1, 2, 3, 4], "verdict": "confirmed", "rule": "littering"}],
     "rules ['littering'] have no class"),
    ([{"image": "frames/9.jpg", "box_xyxy": [1, 2, 3, 4], "verdict": "confirmed", "rule": "illegal_parking"}],
     "frames/9.jpg: not an image"),
])
def test_bad_exports_name_the_file_and_problem(tmp_path: Path, lines: list | None, message: str) -> None:
    if lines is not None:
        text = "".join((line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines)
        (tmp_path / "reviews.jsonl").write_text(text)
    with pytest.raises(HarvestError, match=message.replace("[", r"\[").replace("]", r"\]")):
        harvest(export_dir=tmp_path, out_dir=tmp_path / "out", config=HarvestConfig())


def test_harvest_refuses_a_folder_in_use(export_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("earlier work")
    result = CliRunner().invoke(models, ["harvest", str(export_dir), str(out)])
    assert result.exit_code == 1 and "not empty" in result.output and (out / "keep.txt").exists()
