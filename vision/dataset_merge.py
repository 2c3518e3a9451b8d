"""Several YOLO data sets → one with a common class list (`python -m vision models merge RECIPE OUT`).

Each source names its class ids, how they map onto the merged classes, and the merged classes its
images were never labelled for. Those images must not teach the model that such objects are
background, so a source can be pseudo-labelled by a model that knows the missing class: detections
at or above `conf` become labels, and detections between `mask_conf` and `conf` (too uncertain to
call either way) are painted over with the image's mean colour, so they count neither as an object
nor as background. A labeller whose confidence means little on these images (another domain) labels
nothing (`conf: None`) and only masks. A merged class a source lacks that no pseudo-labeller covers is an error unless
the recipe says it was checked (`checked_absent`), with the reason.

    recipe = load_merge_recipe(Path("config/datasets/drone_patrol.yaml"))
    report = merge(recipe=recipe, out_dir=Path("var/datasets/drone_patrol"))
"""
from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import yaml
from pydantic import Field, model_validator

from config.base import StrictModel, reading_settings_file
from vision.training import box_iou_matrix, label_boxes

Split = Literal["train", "val", "test"]
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp"}


class PseudoLabelConfig(StrictModel):
    model: str = Field(..., min_length=1, description="checkpoint that labels the missing classes")
    classes: dict[str, str] = Field(..., min_length=1, description="model class -> merged class it labels")
    conf: float | None = Field(
        0.5, gt=0.0, le=1.0, description="detections at or above this become labels (None: none does, all are masked)"
    )
    mask_conf: float | None = Field(
        0.15, gt=0.0, le=1.0, description="detections from here up to conf are painted over (None: left as they are)"
    )
    imgsz: int = Field(640, ge=32, le=4096, multiple_of=32, description="inference image size in pixels")
    skip_iou: float = Field(
        0.3, ge=0.0, le=1.0, description="a detection overlapping a source label this much is neither label nor mask"
    )

    @model_validator(mode="after")
    def _mask_below_conf(self) -> PseudoLabelConfig:
        if self.conf is None and self.mask_conf is None:
            raise ValueError("conf and mask_conf are both None: the pseudo-labeller would do nothing")
        if self.mask_conf is not None and self.conf is not None and self.mask_conf >= self.conf:
            raise ValueError("mask_conf must lie below conf")
        return self


class MergeSource(StrictModel):
    name: str = Field(..., pattern=r"^[a-z0-9_]+$", description="prefix of this source's file names in the merge")
    images: str = Field(..., min_length=1, description="image folder; its labels sit in ../labels (YOLO txt)")
    split: Split = Field(..., description="merged split these images go to")
    names: list[str] = Field(..., min_length=1, description="the source's class names, by class id")
    classes: dict[str, str] = Field(..., description="source class -> merged class; source classes not named are dropped")
    every: int = Field(1, ge=1, description="take every n-th image (sorted by name): thins near-duplicate video frames")
    pseudo_labels: list[PseudoLabelConfig] = Field(default_factory=list, description="models labelling missing classes")
    checked_absent: dict[str, str] = Field(
        default_factory=dict, description="merged class -> why these images hold none of it (looked at, not assumed)"
    )


class MergeRecipe(StrictModel):
    names: list[str] = Field(..., min_length=1, description="the merged class names, by class id")
    sources: list[MergeSource] = Field(..., min_length=1, description="the data sets to merge")

    @model_validator(mode="after")
    def _verify_classes(self) -> MergeRecipe:
        verify_recipe_classes(self)
        return self


def verify_recipe_classes(recipe: MergeRecipe) -> None:
    """Every mapping names real classes, and every merged class is labelled, pseudo-labelled or checked absent."""
    merged = set(recipe.names)
    if len(merged) != len(recipe.names):
        raise ValueError(f"merged names repeat a class: {recipe.names}")
    for source in recipe.sources:
        unknown_source = set(source.classes) - set(source.names)
        if unknown_source:
            raise ValueError(f"source {source.name}: classes {sorted(unknown_source)} are not among its names {source.names}")
        targets = set(source.classes.values())
        for pseudo in source.pseudo_labels:
            targets |= set(pseudo.classes.values())
        targets |= set(source.checked_absent)
        unknown_target = targets - merged
        if unknown_target:
            raise ValueError(f"source {source.name}: {sorted(unknown_target)} are not merged classes {recipe.names}")
        missing = merged - targets
        if missing:
            raise ValueError(
                f"source {source.name}: its images are not labelled for {sorted(missing)}; "
                "pseudo-label them or say in checked_absent why they hold none"
            )
    if len({(s.name, s.split) for s in recipe.sources}) != len(recipe.sources):
        raise ValueError("a source name appears twice in one split (names prefix the merged file names)")


def load_merge_recipe(path: Path) -> MergeRecipe:
    """The recipe YAML; relative folders and models are read from the repository root, like every config path."""
    with reading_settings_file(path):
        return MergeRecipe.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")) or {})


# --- labels ----------------------------------------------------------------------------------


def remap_label_lines(lines: list[str], *, source_names: list[str], classes: dict[str, str], merged_names: list[str]) -> list[str]:
    """YOLO label lines with source class ids → merged ids; classes the map does not name are dropped.

    >>> remap_label_lines(["0 0.5 0.5 0.1 0.1"], source_names=["vendedor_ambulante"],
    ...                   classes={"vendedor_ambulante": "vendor"}, merged_names=["vehicle", "vendor"])
    ['1 0.5 0.5 0.1 0.1']
    """
    out: list[str] = []
    for line in lines:
        parts = line.split()
        if not parts:
            continue
        source_id = int(parts[0])
        if not 0 <= source_id < len(source_names):
            raise ValueError(f"class id {source_id} is not among the source's {len(source_names)} names")
        target = classes.get(source_names[source_id])
        if target is not None:
            out.append(" ".join([str(merged_names.index(target)), *parts[1:]]))
    return out


def yolo_line(class_id: int, box: np.ndarray, width: int, height: int) -> str:
    x1, y1, x2, y2 = (float(v) for v in box)
    return f"{class_id} {(x1 + x2) / 2 / width:.6f} {(y1 + y2) / 2 / height:.6f} {(x2 - x1) / width:.6f} {(y2 - y1) / height:.6f}"


# --- pseudo-labels ---------------------------------------------------------------------------

# (image path) -> (pixel xyxy boxes, confidences, model class names): one model's detections
Detect = Callable[[Path], tuple[np.ndarray, np.ndarray, list[str]]]


def ultralytics_detector(pseudo: PseudoLabelConfig) -> Detect:
    """The pseudo-labeller as a plain function, at the lowest confidence the recipe looks at."""
    from vision.training import resolve_path

    from ultralytics import YOLO

    model = YOLO(str(resolve_path(pseudo.model)), task="detect")
    floor = min(c for c in (pseudo.conf, pseudo.mask_conf) if c is not None)

    def detect(image: Path) -> tuple[np.ndarray, np.ndarray, list[str]]:
        result = model.predict(str(image), imgsz=pseudo.imgsz, conf=floor, verbose=False)[0]
        names = [model.names[int(c)] for c in result.boxes.cls.cpu().numpy()]
        return result.boxes.xyxy.cpu().numpy(), result.boxes.conf.cpu().numpy(), names

    return detect


@dataclass
class PseudoDecision:
    labels: list[str] = field(default_factory=list)  # merged-id YOLO lines to add
    masks: list[np.ndarray] = field(default_factory=list)  # pixel boxes to paint over
    skipped: int = 0  # detections on a source label (e.g. a canopy the vehicle model took for a car)


def decide_pseudo_labels(
    *,
    boxes: np.ndarray,
    confs: np.ndarray,
    names: list[str],
    source_boxes: np.ndarray,
    pseudo: PseudoLabelConfig,
    merged_names: list[str],
    width: int,
    height: int,
) -> PseudoDecision:
    """Which detections become labels, which are masked, which are ignored because they sit on a source label."""
    decision = PseudoDecision()
    overlap = box_iou_matrix(boxes, source_boxes).max(axis=1) if len(source_boxes) else np.zeros(len(boxes))
    for box, conf, name, iou in zip(boxes, confs, names, overlap):
        target = pseudo.classes.get(name)
        if target is None:
            continue
        if iou > pseudo.skip_iou:
            decision.skipped += 1
        elif pseudo.conf is not None and conf >= pseudo.conf:
            decision.labels.append(yolo_line(merged_names.index(target), box, width, height))
        elif pseudo.mask_conf is not None and conf >= pseudo.mask_conf:
            decision.masks.append(box)
    return decision


def paint_over(image: np.ndarray, boxes: list[np.ndarray], *, margin: int = 2) -> np.ndarray:
    """The image with each box filled by the image's mean colour (neither object nor background to learn from)."""
    out = image.copy()
    fill = image.reshape(-1, image.shape[2]).mean(axis=0).astype(image.dtype)
    height, width = image.shape[:2]
    for x1, y1, x2, y2 in boxes:
        out[max(int(y1) - margin, 0) : min(int(np.ceil(y2)) + margin, height), max(int(x1) - margin, 0) : min(int(np.ceil(x2)) + margin, width)] = fill
    return out


# --- merge -----------------------------------------------------------------------------------


@dataclass
class MergeReport:
    data_yaml: Path
    names: list[str]
    sources: dict[str, dict[str, Any]]

    def as_dict(self) -> dict[str, Any]:
        return {"data_yaml": str(self.data_yaml), "names": self.names, "sources": self.sources}


def _images(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)


def merge(
    *, recipe: MergeRecipe, out_dir: Path, detectors: dict[str, Detect] | None = None
) -> MergeReport:
    """Write OUT/{split}/images (symlinks, or masked copies), OUT/{split}/labels, data.yaml and merge_report.json.

    `detectors` maps a pseudo-label model path to a ready detect function (tests and repeated
    models share one); missing ones are loaded with Ultralytics.
    """
    import cv2

    from vision.training import resolve_path

    detectors = dict(detectors or {})
    for split in {s.split for s in recipe.sources}:  # a fresh merge: no files left from an earlier recipe
        shutil.rmtree(out_dir / split, ignore_errors=True)
    out_dir.mkdir(parents=True, exist_ok=True)
    report: dict[str, dict[str, Any]] = {}
    splits: set[str] = set()
    for source in recipe.sources:
        images_dir = resolve_path(source.images)
        labels_dir = images_dir.parent / "labels"
        if not images_dir.is_dir():
            raise FileNotFoundError(f"source {source.name}: no image folder {images_dir}")
        target_images = out_dir / source.split / "images"
        target_labels = out_dir / source.split / "labels"
        target_images.mkdir(parents=True, exist_ok=True)
        target_labels.mkdir(parents=True, exist_ok=True)
        splits.add(source.split)
        counts = {"images": 0, "labels": {n: 0 for n in recipe.names}, "pseudo_labels": {n: 0 for n in recipe.names},
                  "masked_boxes": 0, "masked_images": 0, "skipped_on_source_label": 0}
        for pseudo in source.pseudo_labels:
            detectors.setdefault(pseudo.model, ultralytics_detector(pseudo))
        for image_path in _images(images_dir)[:: source.every]:
            label_file = labels_dir / f"{image_path.stem}.txt"
            raw = label_file.read_text(encoding="utf-8").splitlines() if label_file.exists() else []
            lines = remap_label_lines(raw, source_names=source.names, classes=source.classes, merged_names=recipe.names)
            masks: list[np.ndarray] = []
            image = None
            if source.pseudo_labels:
                image = cv2.imread(str(image_path))
                if image is None:
                    raise ValueError(f"{image_path} cannot be read as an image")
                height, width = image.shape[:2]
                source_boxes = label_boxes(lines, width, height)
                for pseudo in source.pseudo_labels:
                    boxes, confs, names = detectors[pseudo.model](image_path)
                    decision = decide_pseudo_labels(boxes=boxes, confs=confs, names=names, source_boxes=source_boxes,
                                                    pseudo=pseudo, merged_names=recipe.names, width=width, height=height)
                    lines += decision.labels
                    masks += decision.masks
                    counts["skipped_on_source_label"] += decision.skipped
                    for line in decision.labels:
                        counts["pseudo_labels"][recipe.names[int(line.split()[0])]] += 1
            name = f"{source.name}__{image_path.name}"
            target = target_images / name
            if target.exists() or target.is_symlink():
                target.unlink()
            if masks:  # a copy under the source's name, so labels, caches and resumed runs find the same files
                cv2.imwrite(str(target), paint_over(image, masks), [cv2.IMWRITE_JPEG_QUALITY, 95])
                counts["masked_boxes"] += len(masks)
                counts["masked_images"] += 1
            else:
                target.symlink_to(image_path.resolve())
            (target_labels / f"{target.stem}.txt").write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
            counts["images"] += 1
            for line in lines:
                counts["labels"][recipe.names[int(line.split()[0])]] += 1
        report[f"{source.name}/{source.split}"] = counts
    data: dict[str, Any] = {"path": str(out_dir.resolve())}
    data.update({split: f"{split}/images" for split in ("train", "val", "test") if split in splits})
    data["names"] = dict(enumerate(recipe.names))
    data_yaml = out_dir / "data.yaml"
    data_yaml.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    result = MergeReport(data_yaml=data_yaml, names=recipe.names, sources=report)
    (out_dir / "merge_report.json").write_text(json.dumps(result.as_dict(), indent=2) + "\n", encoding="utf-8")
    return result
