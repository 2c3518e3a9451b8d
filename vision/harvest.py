"""Reviewed detections → a YOLO data set, so a bureau's own reviews become its next training set.

The input is the folder `python -m webapp review export` writes: `reviews.jsonl`, one line per reviewed
detection ({"image": "frames/12.jpg", "box_xyxy": [x1, y1, x2, y2], "verdict": "confirmed" | "rejected",
"reason": null | "false_detection" | "not_a_violation" | "duplicate", "rule": "illegal_parking",
"event_id": ...}) beside the unannotated frames. Each sample is the region around the object's box (the
box and `margin` of its size on each side), not the whole frame: the rest of a street frame holds
vehicles nobody labelled, and an unlabelled vehicle teaches the model "background".

- confirmed, and rejected as not a violation or as a duplicate: the object is real → its box, labelled
  with the class of its rule (`harvest.classes`);
- rejected as a false detection: nothing is there → an empty label file, a hard negative.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import yaml
from pydantic import Field

from config.base import StrictModel

REVIEWS_FILE = "reviews.jsonl"
HARD_NEGATIVE_REASONS = frozenset({"false_detection"})


class HarvestConfig(StrictModel):
    margin: float = Field(0.5, ge=0.0, le=10.0, description="context kept on each side of the box, in box sizes")
    val_fraction: float = Field(0.2, ge=0.0, lt=1.0, description="share of the samples held out for validation")
    classes: dict[str, str] = Field(
        {"illegal_parking": "vehicle", "street_vending": "vendor"}, description="label class of each rule's object"
    )


@dataclass
class HarvestResult:
    data_yaml: Path
    names: list[str]
    counts: dict[str, dict[str, int]] = field(default_factory=dict)  # split -> {"objects", "hard_negatives"}


class HarvestError(ValueError):
    """An export folder that cannot be harvested; the message names the file and the problem."""


def read_reviews(export_dir: Path) -> list[dict[str, Any]]:
    """The lines of `reviews.jsonl`, each checked for the fields the harvest needs."""
    path = export_dir / REVIEWS_FILE
    if not path.is_file():
        raise HarvestError(f"{path}: not found (write it with `python -m webapp review export {export_dir}`)")
    reviews = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            review = json.loads(line)
            box = [float(v) for v in review["box_xyxy"]]
            if len(box) != 4 or review["verdict"] not in ("confirmed", "rejected") or not review["image"]:
                raise ValueError
        except (ValueError, KeyError, TypeError):
            raise HarvestError(f"{path}:{number}: needs image, box_xyxy [x1, y1, x2, y2] and verdict "
                               "confirmed or rejected") from None
        reviews.append({**review, "box_xyxy": box})
    if not reviews:
        raise HarvestError(f"{path}: no reviewed detections")
    return reviews


def crop_around(image: np.ndarray, box: list[float], margin: float) -> tuple[np.ndarray, list[float]]:
    """The region around `box` (`margin` box sizes each side, inside the image) and the box in its pixels."""
    height, width = image.shape[:2]
    x1, y1, x2, y2 = box
    pad_x, pad_y = (x2 - x1) * margin, (y2 - y1) * margin
    left, top = max(0, int(x1 - pad_x)), max(0, int(y1 - pad_y))
    right, bottom = min(width, int(np.ceil(x2 + pad_x))), min(height, int(np.ceil(y2 + pad_y)))
    inner = [max(x1, left) - left, max(y1, top) - top, min(x2, right) - left, min(y2, bottom) - top]
    return image[top:bottom, left:right], inner


def yolo_line(class_id: int, box: list[float], width: int, height: int) -> str:
    x1, y1, x2, y2 = box
    return f"{class_id} {(x1 + x2) / 2 / width:.6f} {(y1 + y2) / 2 / height:.6f} {(x2 - x1) / width:.6f} {(y2 - y1) / height:.6f}"


def split_of(reviews: list[dict[str, Any]], val_fraction: float) -> dict[str, str]:
    """image -> "train" or "val": a stable hash order, the first share held out (at least one sample trains)."""
    order = sorted(reviews, key=lambda r: hashlib.sha1(str(r.get("event_id") or r["image"]).encode()).hexdigest())
    n_val = min(round(len(order) * val_fraction), len(order) - 1)
    return {r["image"]: ("val" if k < n_val else "train") for k, r in enumerate(order)}


def harvest(*, export_dir: Path, out_dir: Path, config: HarvestConfig) -> HarvestResult:
    """Write a YOLO data set (train/ and val/ images and labels, data.yaml) from a review export."""
    reviews = read_reviews(export_dir)
    if out_dir.exists() and any(out_dir.iterdir()):
        raise HarvestError(f"{out_dir}: not empty; harvest into a new folder")
    unknown = sorted({str(r.get("rule")) for r in reviews} - set(config.classes))
    if unknown:
        raise HarvestError(f"{export_dir / REVIEWS_FILE}: rules {unknown} have no class in harvest.classes")
    names = sorted({config.classes[r["rule"]] for r in reviews})
    splits = split_of(reviews, config.val_fraction)
    counts = {split: {"objects": 0, "hard_negatives": 0} for split in ("train", "val")}
    for split in counts:
        for kind in ("images", "labels"):
            (out_dir / split / kind).mkdir(parents=True, exist_ok=True)
    for review in reviews:
        image = cv2.imread(str(export_dir / review["image"]))
        if image is None:
            raise HarvestError(f"{export_dir / review['image']}: not an image")
        crop, box = crop_around(image, review["box_xyxy"], config.margin)
        if crop.size == 0 or box[2] <= box[0] or box[3] <= box[1]:
            raise HarvestError(f"{export_dir / review['image']}: box {review['box_xyxy']} lies outside the frame")
        split, stem = splits[review["image"]], Path(review["image"]).stem
        negative = review["verdict"] == "rejected" and review.get("reason") in HARD_NEGATIVE_REASONS
        label = "" if negative else yolo_line(names.index(config.classes[review["rule"]]), box, crop.shape[1], crop.shape[0]) + "\n"
        cv2.imwrite(str(out_dir / split / "images" / f"{stem}.jpg"), crop)
        (out_dir / split / "labels" / f"{stem}.txt").write_text(label, encoding="utf-8")
        counts[split]["hard_negatives" if negative else "objects"] += 1
    # With too few samples to hold any out, validation reads the training images (a smoke run, not a score).
    val = "val/images" if any(counts["val"].values()) else "train/images"
    data_yaml = out_dir / "data.yaml"
    data_yaml.write_text(yaml.safe_dump({"train": "train/images", "val": val,
                                         "names": dict(enumerate(names))}, allow_unicode=True, sort_keys=False))
    return HarvestResult(data_yaml=data_yaml, names=names, counts=counts)
