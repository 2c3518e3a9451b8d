"""Fine-tune, score and export detection models with Ultralytics (the `models` commands)."""
from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import yaml
from pydantic import Field

from config.base import StrictModel
from vision.harvest import HarvestConfig

# Ultralytics must never reach for the network (fonts, weights, pip): the workers are offline.
os.environ.setdefault("YOLO_OFFLINE", "1")

REPO_ROOT = Path(__file__).resolve().parents[1]
TRAINING_FILE = REPO_ROOT / "config" / "training.yaml"
SPLITS = ("train", "val", "test")
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp"}
ExportFormat = Literal["openvino", "openvino_int8", "onnx"]


class TrainConfig(StrictModel):
    model: str = Field("../shared/models/yolo11n_coco_rebuilt.pt", min_length=1, description="checkpoint to fine-tune from")
    imgsz: int = Field(640, ge=32, le=4096, multiple_of=32, description="training image size in pixels")
    batch: int = Field(16, ge=1, le=512, description="images per step")
    epochs: int = Field(100, ge=1, le=10000, description="upper bound on epochs; the time budget decides on a CPU")
    time_hours: float | None = Field(0.6, gt=0.0, le=1000.0, description="wall-clock budget in hours (None: epochs decide)")
    patience: int = Field(100, ge=0, le=10000, description="epochs without improvement before stopping")
    workers: int = Field(2, ge=0, le=64, description="dataloader processes")
    device: str = Field("cpu", pattern=r"^(cpu|cuda(:\d+)?|\d+)$", description="training device")
    cache: Literal["ram", "disk", False] = Field("ram", description="keep decoded images in RAM, on disk, or not at all")
    flipud: float = Field(0.5, ge=0.0, le=1.0, description="vertical-flip probability (nadir views have no up)")
    freeze: int | None = Field(None, ge=0, le=100, description="freeze the first N layers (10: the YOLO11 backbone); None: none")
    optimizer: Literal["auto", "SGD", "AdamW"] = Field(
        "auto", description="auto: Ultralytics' choice (AdamW at a tiny learning rate for short runs), or this one "
        "at lr0",
    )
    lr0: float = Field(0.01, gt=0.0, le=1.0, description="initial learning rate (not used by optimizer auto)")
    seed: int = Field(0, ge=0, description="random seed")


class EvaluateConfig(StrictModel):
    split: Literal["train", "val", "test"] = Field("val", description="data set split to score")
    imgsz: int = Field(640, ge=32, le=4096, multiple_of=32, description="inference image size in pixels")
    conf: float = Field(0.001, ge=0.0, le=1.0, description="lowest confidence kept when scoring")
    iou: float = Field(0.7, gt=0.0, le=1.0, description="NMS IoU threshold")
    count_conf: float = Field(0.25, ge=0.0, le=1.0, description="confidence for detections-per-image counts")
    batch: int = Field(8, ge=1, le=256, description="images per predict call")


class ExportConfig(StrictModel):
    formats: list[ExportFormat] = Field(["openvino", "openvino_int8", "onnx"], min_length=1, description="formats to write")
    imgsz: int = Field(640, ge=32, le=4096, multiple_of=32, description="exported input size in pixels")
    int8_split: Literal["train", "val", "test"] = Field("train", description="split the INT8 calibration images come from")
    int8_fraction: float = Field(0.4, gt=0.0, le=1.0, description="share of that split used for calibration")


class TrainingConfig(StrictModel):
    runs_dir: str = Field("runs", min_length=1, description="folder for runs, staged data sets and exports")
    train: TrainConfig = Field(default_factory=TrainConfig, description="fine-tuning defaults")
    evaluate: EvaluateConfig = Field(default_factory=EvaluateConfig, description="scoring defaults")
    export: ExportConfig = Field(default_factory=ExportConfig, description="export defaults")
    harvest: HarvestConfig = Field(default_factory=HarvestConfig, description="reviewed detections → data set")
    class_maps: dict[str, dict[str, str]] = Field(
        default_factory=dict, description="named model-class -> data-set-class maps for --class-map"
    )

    @property
    def runs_path(self) -> Path:
        return resolve_path(self.runs_dir)


def resolve_path(path: str | Path) -> Path:
    """A config path: absolute as given, relative ones from the repository root."""
    path = Path(path).expanduser()
    return path if path.is_absolute() else (REPO_ROOT / path).resolve()


def load_training_config(path: Path = TRAINING_FILE) -> TrainingConfig:
    return TrainingConfig.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")) or {})


# --- data sets -------------------------------------------------------------------------------


def _split_images(data_yaml: Path, spec: Any) -> Path | None:
    """The images folder a data.yaml split points at, or None when it is absent on disk."""
    if not isinstance(spec, str):
        return None
    meta = yaml.safe_load(data_yaml.read_text(encoding="utf-8"))
    base = Path(meta.get("path") or data_yaml.parent)
    base = base if base.is_absolute() else (data_yaml.parent / base)
    folder = (base / spec).resolve()
    if not folder.is_dir() and spec.startswith("../"):  # Roboflow's layout, read as Ultralytics does
        folder = (base / spec[3:]).resolve()
    return folder if folder.is_dir() else None


def stage_dataset(*, data: Path, runs_dir: Path) -> Path:
    """Mirror a YOLO data set under runs_dir with per-file symlinks and return its data.yaml.

    Ultralytics writes `labels.cache` beside the labels and resolves folder symlinks, so the shared
    (read-only) folders are mirrored file by file: the cache lands in the mirror. Idempotent and
    additive, so a run still reading the mirror is never disturbed.
    """
    data = data.resolve()
    meta = yaml.safe_load(data.read_text(encoding="utf-8")) or {}
    key = hashlib.sha1(str(data).encode()).hexdigest()[:8]
    root = runs_dir / "datasets" / f"{data.parent.name}-{key}"
    staged: dict[str, Any] = {"path": str(root), "names": meta["names"]}
    for split in SPLITS:
        images = _split_images(data, meta.get(split))
        if images is None:
            continue
        labels = images.parent / "labels"
        for kind, source in (("images", images), ("labels", labels)):
            target = root / split / kind
            target.mkdir(parents=True, exist_ok=True)
            for file in source.iterdir() if source.is_dir() else ():
                link = target / file.name
                if not link.exists():
                    link.symlink_to(file)
        staged[split] = f"{split}/images"
    if "train" not in staged and "val" not in staged and "test" not in staged:
        raise ValueError(f"{data} names no split folder that exists")
    out = root / "data.yaml"
    out.write_text(yaml.safe_dump(staged, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return out


def dataset_names(data: Path) -> dict[int, str]:
    names = (yaml.safe_load(data.read_text(encoding="utf-8")) or {})["names"]
    return dict(enumerate(names)) if isinstance(names, list) else {int(k): str(v) for k, v in names.items()}


# --- train -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class TrainResult:
    save_dir: Path
    best: Path
    last: Path
    metrics: dict[str, float] = field(default_factory=dict)


def last_run(runs_dir: Path, name: str | None = None) -> Path:
    """The last.pt of run `name`, or of the newest run under runs_dir/train, for --resume."""
    candidates = sorted((runs_dir / "train").glob(f"{name or '*'}/weights/last.pt"), key=lambda p: p.stat().st_mtime)
    if not candidates:
        raise FileNotFoundError(f"no run {name or ''} to resume under {runs_dir / 'train'}")
    return candidates[-1]


def train(
    *,
    data: Path | None,
    config: TrainingConfig,
    model: Path | None = None,
    name: str | None = None,
    epochs: int | None = None,
    time_hours: float | None = None,
    imgsz: int | None = None,
    batch: int | None = None,
    freeze: int | None = None,
    resume: bool = False,
) -> TrainResult:
    """Fine-tune `model` on a YOLO data set (or resume the newest run); metrics and plots go to runs.

    A checkpoint that knows some of the data set's classes by name keeps them: Ultralytics moves
    their class-layer rows to the new ids and rebuilds the class branch at the checkpoint's width.
    """
    from ultralytics import YOLO

    runs = config.runs_path
    if resume:
        checkpoint = last_run(runs, name)
        trainer_model = YOLO(str(checkpoint))
        trainer_model.train(resume=True)
    else:
        if data is None:
            raise ValueError("a data.yaml is needed unless resuming")
        cfg = config.train
        staged = stage_dataset(data=data, runs_dir=runs)
        trainer_model = YOLO(str(model or resolve_path(cfg.model)))
        budget = time_hours if time_hours is not None else (None if epochs is not None else cfg.time_hours)
        trainer_model.train(
            data=str(staged),
            epochs=epochs or cfg.epochs,
            time=budget,
            imgsz=imgsz or cfg.imgsz,
            batch=batch or cfg.batch,
            patience=cfg.patience,
            workers=cfg.workers,
            device=cfg.device,
            cache=cfg.cache,
            flipud=cfg.flipud,
            freeze=cfg.freeze if freeze is None else freeze,
            optimizer=cfg.optimizer,
            lr0=cfg.lr0,
            seed=cfg.seed,
            project=str(runs / "train"),
            name=name or data.resolve().parent.name,
            plots=True,
        )
    trainer = trainer_model.trainer
    save_dir = Path(trainer.save_dir)
    metrics = {k: round(float(v), 5) for k, v in (trainer.metrics or {}).items()}
    (save_dir / "metrics.json").write_text(json.dumps(metrics, indent=2), encoding="utf-8")
    return TrainResult(save_dir=save_dir, best=Path(trainer.best), last=Path(trainer.last), metrics=metrics)


# --- evaluate --------------------------------------------------------------------------------

IOU_THRESHOLDS = tuple(0.5 + 0.05 * i for i in range(10))  # mAP@0.5:0.95, as COCO and Ultralytics


def parse_class_map(specs: list[str], *, presets: dict[str, dict[str, str]]) -> dict[str, str]:
    """`car=vehicle` pairs and preset names (config `class_maps`) into one model-name -> data-name map."""
    mapping: dict[str, str] = {}
    for spec in specs:
        if "=" in spec:
            source, _, target = spec.partition("=")
            mapping[source.strip()] = target.strip()
        elif spec in presets:
            mapping.update(presets[spec])
        else:
            raise ValueError(f"class map {spec!r} is neither NAME=TARGET nor one of {sorted(presets)}")
    return mapping


def _class_lookup(model_names: dict[int, str], data_names: dict[int, str], class_map: dict[str, str] | None) -> dict[int, int]:
    """Model class id -> data set class id; classes missing from the map are dropped."""
    if not class_map:  # as Ultralytics' own val: ids are taken to mean the same thing
        return {i: i for i in model_names if i in data_names}
    by_name = {name: i for i, name in data_names.items()}
    return {i: by_name[class_map[n]] for i, n in model_names.items() if class_map.get(n) in by_name}


def _ground_truth(label_file: Path, width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
    """Classes and pixel xyxy boxes of one YOLO label file (polygons become their bounding box)."""
    lines = [line for line in label_file.read_text().splitlines() if line.strip()] if label_file.exists() else []
    classes = np.array([int(line.split()[0]) for line in lines], dtype=int)
    return classes, label_boxes(lines, width, height)


def label_boxes(lines: list[str], width: int, height: int) -> np.ndarray:
    """(N, 4) pixel xyxy boxes of YOLO label lines (polygons become their bounding box)."""
    boxes = np.zeros((len(lines), 4))
    for k, line in enumerate(lines):
        values = np.array(line.split()[1:], dtype=float)
        if len(values) == 4:
            xc, yc, w, h = values
            boxes[k] = xc - w / 2, yc - h / 2, xc + w / 2, yc + h / 2
        else:
            xs, ys = values[0::2], values[1::2]
            boxes[k] = xs.min(), ys.min(), xs.max(), ys.max()
    return boxes * np.array([width, height, width, height])


def box_iou_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(N, M) IoU of every xyxy box of `a` with every one of `b`."""
    if not len(a) or not len(b):
        return np.zeros((len(a), len(b)))
    top_left = np.maximum(a[:, None, :2], b[None, :, :2])
    bottom_right = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.clip(bottom_right - top_left, 0, None).prod(2)
    area_a = (a[:, 2:] - a[:, :2]).prod(1)
    area_b = (b[:, 2:] - b[:, :2]).prod(1)
    return inter / (area_a[:, None] + area_b[None, :] - inter + 1e-9)


def match_predictions(
    pred_cls: np.ndarray, pred_conf: np.ndarray, pred_boxes: np.ndarray, true_cls: np.ndarray, true_boxes: np.ndarray
) -> np.ndarray:
    """True-positive flags (n_pred, 10): each label matched once, most confident prediction first."""
    tp = np.zeros((len(pred_cls), len(IOU_THRESHOLDS)), dtype=bool)
    if not len(pred_cls) or not len(true_cls):
        return tp
    iou = box_iou_matrix(true_boxes, pred_boxes) * (true_cls[:, None] == pred_cls[None, :])
    order = np.argsort(-pred_conf, kind="stable")
    for t, threshold in enumerate(IOU_THRESHOLDS):
        taken = np.zeros(len(true_cls), dtype=bool)
        for p in order:
            candidates = np.where(~taken & (iou[:, p] >= threshold))[0]
            if len(candidates):
                taken[candidates[iou[candidates, p].argmax()]] = True
                tp[p, t] = True
    return tp


def _image_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)


def _load(model: str | Path) -> Any:
    from ultralytics import YOLO

    return YOLO(str(model), task="detect")


def _batches(items: list[Path], size: int) -> list[list[Path]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def evaluate(
    *,
    model: str | Path,
    data: Path,
    config: TrainingConfig,
    split: str | None = None,
    class_map: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Precision, recall, mAP@0.5 and mAP@0.5:0.95 of any model format on one labelled split.

    One scoring path for every model, so a COCO model read through a class map and a fine-tuned
    model are compared alike. P and R are taken at the confidence of best mean F1, as Ultralytics does.
    """
    from tqdm import tqdm
    from ultralytics.utils.metrics import ap_per_class

    cfg = config.evaluate
    split = split or cfg.split
    meta = yaml.safe_load(data.read_text(encoding="utf-8")) or {}
    images_dir = _split_images(data.resolve(), meta.get(split))
    if images_dir is None:
        raise FileNotFoundError(f"{data} has no {split!r} split on disk")
    data_names = dataset_names(data)
    detector = _load(model)
    lookup = _class_lookup(detector.names, data_names, class_map)
    files = _image_files(images_dir)
    stats: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
    inference_ms = 0.0
    with tqdm(total=len(files), desc=f"evaluate {Path(model).name} on {split}", unit="img") as progress:
        for chunk in _batches(files, cfg.batch):
            # agnostic NMS under a class map: COCO's car and truck on one car would be two "vehicle"s
            results = detector.predict(
                [str(f) for f in chunk], imgsz=cfg.imgsz, conf=cfg.conf, iou=cfg.iou, agnostic_nms=bool(class_map), verbose=False
            )
            for file, result in zip(chunk, results):
                height, width = result.orig_shape
                true_cls, true_boxes = _ground_truth(images_dir.parent / "labels" / f"{file.stem}.txt", width, height)
                boxes = result.boxes
                raw_cls = boxes.cls.cpu().numpy().astype(int)
                keep = np.array([c in lookup for c in raw_cls], dtype=bool)
                pred_cls = np.array([lookup[c] for c in raw_cls[keep]], dtype=int)
                pred_conf = boxes.conf.cpu().numpy()[keep]
                pred_boxes = boxes.xyxy.cpu().numpy()[keep]
                stats.append((match_predictions(pred_cls, pred_conf, pred_boxes, true_cls, true_boxes), pred_conf, pred_cls, true_cls))
                inference_ms += result.speed.get("inference", 0.0)
            progress.update(len(chunk))
    tp, conf, pred_cls, target_cls = (np.concatenate([s[i] for s in stats]) for i in range(4))
    tp = tp.reshape(-1, len(IOU_THRESHOLDS))
    if len(target_cls):
        _, _, p, r, _, ap, classes, *_ = ap_per_class(tp, conf, pred_cls, target_cls, names=data_names)
    else:
        p = r = np.zeros(0)
        ap, classes = np.zeros((0, len(IOU_THRESHOLDS))), np.zeros(0, dtype=int)
    per_class = {
        data_names[int(c)]: {
            "instances": int((target_cls == c).sum()),
            "precision": round(float(p[k]), 4),
            "recall": round(float(r[k]), 4),
            "map50": round(float(ap[k, 0]), 4),
            "map50_95": round(float(ap[k].mean()), 4),
        }
        for k, c in enumerate(classes)
    }
    return {
        "model": str(model),
        "data": str(data),
        "split": split,
        "class_map": class_map or None,
        "images": len(files),
        "instances": int(len(target_cls)),
        "predictions": int(len(conf)),
        "precision": round(float(p.mean()) if len(p) else 0.0, 4),
        "recall": round(float(r.mean()) if len(r) else 0.0, 4),
        "map50": round(float(ap[:, 0].mean()) if len(ap) else 0.0, 4),
        "map50_95": round(float(ap.mean()) if len(ap) else 0.0, 4),
        "per_class": per_class,
        "inference_ms_per_image": round(inference_ms / max(len(files), 1), 1),
        "settings": {"imgsz": cfg.imgsz, "conf": cfg.conf, "iou": cfg.iou, "agnostic_nms": bool(class_map)},
    }


def count_detections(
    *,
    model: str | Path,
    source: Path,
    config: TrainingConfig,
    class_map: dict[str, str] | None = None,
    conf: float | None = None,
    sheet: Path | None = None,
    columns: int = 6,
) -> dict[str, Any]:
    """Detections per image on an unlabelled folder (per class, per image, mean), and an optional contact sheet."""
    from tqdm import tqdm

    cfg = config.evaluate
    conf = cfg.count_conf if conf is None else conf
    detector = _load(model)
    # without a class map every model class counts under its own name
    rename = {i: (class_map.get(n) if class_map else n) for i, n in detector.names.items()}
    files = _image_files(source)
    per_image: dict[str, dict[str, int]] = {}
    other: dict[str, int] = {}
    tiles: list[np.ndarray] = []
    for chunk in tqdm(_batches(files, cfg.batch), desc=f"detect {Path(model).name}", unit="batch"):
        results = detector.predict([str(f) for f in chunk], imgsz=cfg.imgsz, conf=conf, iou=cfg.iou, agnostic_nms=bool(class_map), verbose=False)
        for file, result in zip(chunk, results):
            counts: dict[str, int] = {}
            kept: list[tuple[np.ndarray, float, str]] = []
            for box, score, cls in zip(result.boxes.xyxy.cpu().numpy(), result.boxes.conf.cpu().numpy(), result.boxes.cls.cpu().numpy()):
                name = rename.get(int(cls))
                if name is None:
                    raw = detector.names[int(cls)]
                    other[raw] = other.get(raw, 0) + 1
                    continue
                counts[name] = counts.get(name, 0) + 1
                kept.append((box, float(score), name))
            per_image[file.name] = counts
            if sheet is not None:
                tiles.append(_annotate(result.orig_img, kept, f"{file.name}: {sum(counts.values())}"))
    totals: dict[str, int] = {}
    for counts in per_image.values():
        for name, n in counts.items():
            totals[name] = totals.get(name, 0) + n
    n_images = max(len(files), 1)
    if sheet is not None:
        write_contact_sheet(tiles, sheet, columns=columns)
    return {
        "model": str(model),
        "source": str(source),
        "conf": conf,
        "class_map": class_map or None,
        "images": len(files),
        "totals": totals,
        "mean_per_image": round(sum(totals.values()) / n_images, 3),
        "mean_per_image_by_class": {k: round(v / n_images, 3) for k, v in totals.items()},
        "images_with_detections": sum(1 for c in per_image.values() if c),
        "unmapped_classes": other,
        "per_image": per_image,
    }


def _annotate(image: np.ndarray, boxes: list[tuple[np.ndarray, float, str]], title: str) -> np.ndarray:
    """Boxes with confidences and a title bar, drawn with OpenCV (no font download needed)."""
    import cv2

    canvas = image.copy()
    for box, score, _ in boxes:
        x1, y1, x2, y2 = (int(v) for v in box)
        cv2.rectangle(canvas, (x1, y1), (x2, y2), (0, 255, 255), 2)
        cv2.putText(canvas, f"{score:.2f}", (x1, max(y1 - 4, 12)), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 255, 255), 1, cv2.LINE_AA)
    cv2.rectangle(canvas, (0, 0), (canvas.shape[1], 30), (0, 0, 0), -1)
    cv2.putText(canvas, title, (8, 22), cv2.FONT_HERSHEY_SIMPLEX, 0.75, (255, 255, 255), 2, cv2.LINE_AA)
    return canvas


def write_contact_sheet(tiles: list[np.ndarray], out: Path, *, columns: int = 6, tile_width: int = 480) -> Path:
    """A grid of equally sized tiles as one PNG."""
    import cv2

    if not tiles:
        raise ValueError("no images for the contact sheet")
    height = round(tiles[0].shape[0] * tile_width / tiles[0].shape[1])
    resized = [cv2.resize(t, (tile_width, height), interpolation=cv2.INTER_AREA) for t in tiles]
    blank = np.zeros_like(resized[0])
    rows = [resized[i : i + columns] for i in range(0, len(resized), columns)]
    grid = np.vstack([np.hstack(row + [blank] * (columns - len(row))) for row in rows])
    out.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(out), grid)
    return out


# --- export ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExportResult:
    format: str
    path: Path
    seconds: float
    megabytes: float


def _size_mb(path: Path) -> float:
    files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
    return round(sum(p.stat().st_size for p in files) / 1e6, 2)


def export(
    *,
    model: Path,
    config: TrainingConfig,
    data: Path | None = None,
    formats: list[ExportFormat] | None = None,
    out_dir: Path | None = None,
) -> list[ExportResult]:
    """Export a .pt to OpenVINO FP16, OpenVINO INT8 (calibrated on `data`) and ONNX, class names included.

    Ultralytics writes exports beside the weights, so the weights are copied into out_dir first
    (default RUNS/export/<stem>): the source may sit in a read-only folder.
    """
    import time

    cfg = config.export
    formats = formats or list(cfg.formats)
    if "openvino_int8" in formats and data is None:
        raise ValueError("INT8 calibration needs a data.yaml")
    out_dir = out_dir or config.runs_path / "export" / model.stem
    out_dir.mkdir(parents=True, exist_ok=True)
    weights = out_dir / model.name
    if weights.resolve() != model.resolve():
        shutil.copy2(model, weights)
    staged = stage_dataset(data=data, runs_dir=config.runs_path) if data is not None else None
    results: list[ExportResult] = []
    for fmt in formats:
        options: dict[str, Any] = {"format": "onnx" if fmt == "onnx" else "openvino", "imgsz": cfg.imgsz}
        if fmt == "openvino":
            options["quantize"] = 16
        elif fmt == "openvino_int8":
            options.update(quantize=8, data=str(staged), split=cfg.int8_split, fraction=cfg.int8_fraction)
        started = time.perf_counter()
        path = Path(_load(weights).export(**options))
        results.append(ExportResult(fmt, path, round(time.perf_counter() - started, 1), _size_mb(path)))
    return results
