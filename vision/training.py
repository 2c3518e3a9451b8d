"""Fine-tune, score and export detection models with Ultralytics (the `models` commands)."""
from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import Field

from config.base import StrictModel

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


def last_run(runs_dir: Path) -> Path:
    """The newest run's last.pt under runs_dir/train, for --resume."""
    candidates = sorted((runs_dir / "train").glob("*/weights/last.pt"), key=lambda p: p.stat().st_mtime)
    if not candidates:
        raise FileNotFoundError(f"no run to resume under {runs_dir / 'train'}")
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
    resume: bool = False,
) -> TrainResult:
    """Fine-tune `model` on a YOLO data set (or resume the newest run); metrics and plots go to runs."""
    from ultralytics import YOLO

    runs = config.runs_path
    if resume:
        checkpoint = last_run(runs)
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
