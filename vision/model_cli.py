"""`python -m vision.model_cli {train,evaluate,export,harvest}`: fine-tune, score, export models; harvest reviews."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from vision import dataset_merge, harvest, training

CONFIG_OPTION = click.option(
    "--config",
    "config_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=training.TRAINING_FILE,
    show_default=True,
    help="training settings (YAML)",
)


@click.group("models")
def models() -> None:
    """Fine-tune, evaluate and export detection models (Ultralytics)."""


@models.command("train")
@click.argument("data", required=False, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--model", type=click.Path(exists=True, path_type=Path), help="checkpoint to start from [config]")
@click.option("--name", help="run name under RUNS/train [data set folder name]")
@click.option("--epochs", type=click.IntRange(1), help="train this many epochs instead of a time budget")
@click.option("--time", "time_hours", type=click.FloatRange(0, min_open=True), help="time budget in hours [config]")
@click.option("--imgsz", type=click.IntRange(32), help="image size [config]")
@click.option("--batch", type=click.IntRange(1), help="batch size [config]")
@click.option("--freeze", type=click.IntRange(0), help="freeze the first N layers (10: YOLO11 backbone) [config]")
@click.option("--resume", is_flag=True, help="continue run NAME (default: the newest run) from its last.pt")
@CONFIG_OPTION
def train_command(
    data: Path | None,
    model: Path | None,
    name: str | None,
    epochs: int | None,
    time_hours: float | None,
    imgsz: int | None,
    batch: int | None,
    freeze: int | None,
    resume: bool,
    config_file: Path,
) -> None:
    """Fine-tune a checkpoint on DATA (a YOLO data.yaml); runs go to RUNS/train/NAME."""
    if data is None and not resume:
        raise click.UsageError("DATA is required unless --resume is given")
    result = training.train(
        data=data,
        config=training.load_training_config(config_file),
        model=model,
        name=name,
        epochs=epochs,
        time_hours=time_hours,
        imgsz=imgsz,
        batch=batch,
        freeze=freeze,
        resume=resume,
    )
    click.echo(f"run: {result.save_dir}\nbest: {result.best}")
    for key, value in result.metrics.items():
        click.echo(f"  {key}: {value}")


def _merge_json(out: Path, label: str, result: dict[str, Any]) -> None:
    """Keep earlier entries of `out`, so several models sit side by side in one file."""
    existing = json.loads(out.read_text(encoding="utf-8")) if out.exists() else {}
    existing[label] = result
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(existing, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


@models.command("evaluate")
@click.argument("model", type=click.Path(exists=True, path_type=Path))
@click.argument("target", type=click.Path(exists=True, path_type=Path))
@click.option("--split", type=click.Choice(["train", "val", "test"]), help="split of a data.yaml to score [config]")
@click.option(
    "--class-map",
    "class_map_specs",
    multiple=True,
    help="model class -> data set class, NAME=TARGET or a preset from the config (coco_vehicle); repeatable",
)
@click.option("--conf", type=click.FloatRange(0, 1), help="confidence for counts on a folder [config]")
@click.option("--sheet", type=click.Path(dir_okay=False, path_type=Path), help="folder only: write a contact sheet PNG")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="JSON file to write or merge into")
@click.option("--label", help="key of this result in --out [model file name]")
@CONFIG_OPTION
def evaluate_command(
    model: Path,
    target: Path,
    split: str | None,
    class_map_specs: tuple[str, ...],
    conf: float | None,
    sheet: Path | None,
    out: Path | None,
    label: str | None,
    config_file: Path,
) -> None:
    """Score MODEL (.pt, .onnx, OpenVINO folder) on TARGET: a data.yaml (metrics) or an image folder (counts)."""
    config = training.load_training_config(config_file)
    try:
        class_map = training.parse_class_map(list(class_map_specs), presets=config.class_maps) or None
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--class-map") from error
    if target.is_dir():
        result = training.count_detections(model=model, source=target, config=config, class_map=class_map, conf=conf, sheet=sheet)
        click.echo(f"{'image':<24}{'detections':>12}")
        for name, counts in result["per_image"].items():
            click.echo(f"{name:<24}{sum(counts.values()):>12}")
        click.echo(f"{result['images']} images, totals {result['totals']}, mean {result['mean_per_image']} per image")
        if sheet is not None:
            click.echo(f"contact sheet: {sheet}")
    else:
        result = training.evaluate(model=model, data=target, config=config, split=split, class_map=class_map)
        click.echo(f"{'class':<20}{'images':>8}{'labels':>8}{'P':>8}{'R':>8}{'mAP50':>8}{'mAP50-95':>10}")
        rows = [("all", result)] + list(result["per_class"].items())
        for name, row in rows:
            click.echo(
                f"{name:<20}{result['images']:>8}{row['instances']:>8}{row['precision']:>8.3f}"
                f"{row['recall']:>8.3f}{row['map50']:>8.3f}{row['map50_95']:>10.3f}"
            )
    if out is not None:
        _merge_json(out, label or model.name, result)
        click.echo(f"written: {out}")
    else:
        click.echo(json.dumps(result, indent=2, ensure_ascii=False))


@models.command("export")
@click.argument("model", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--data", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="data.yaml for INT8 calibration")
@click.option(
    "--format",
    "formats",
    multiple=True,
    type=click.Choice(["openvino", "openvino_int8", "onnx"]),
    help="format to write (openvino = FP16); repeatable [config]",
)
@click.option("--out-dir", type=click.Path(file_okay=False, path_type=Path), help="where the exports go [RUNS/export/STEM]")
@CONFIG_OPTION
def export_command(model: Path, data: Path | None, formats: tuple[str, ...], out_dir: Path | None, config_file: Path) -> None:
    """Export MODEL (.pt) for the worker: OpenVINO FP16 and INT8, ONNX; class names go along."""
    config = training.load_training_config(config_file)
    try:
        results = training.export(model=model, config=config, data=data, formats=list(formats) or None, out_dir=out_dir)
    except ValueError as error:
        raise click.UsageError(str(error)) from error
    for result in results:
        click.echo(f"{result.format:<15}{result.megabytes:>8.2f} MB{result.seconds:>8.1f} s  {result.path}")


@models.command("merge")
@click.argument("recipe", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("out_dir", type=click.Path(file_okay=False, path_type=Path))
def merge_command(recipe: Path, out_dir: Path) -> None:
    """Merge the data sets RECIPE names (e.g. config/datasets/drone_patrol.yaml) into one YOLO set in OUT_DIR."""
    try:
        result = dataset_merge.merge(recipe=dataset_merge.load_merge_recipe(recipe), out_dir=out_dir)
    except (ValueError, FileNotFoundError) as error:
        raise click.ClickException(str(error)) from error
    for name, counts in result.sources.items():
        click.echo(
            f"{name:<12}{counts['images']:>6} images  labels {counts['labels']}  pseudo {counts['pseudo_labels']}"
            f"  masked {counts['masked_boxes']} boxes on {counts['masked_images']} images"
        )
    click.echo(f"classes: {', '.join(result.names)}\ndata: {result.data_yaml}")


@models.command("harvest")
@click.argument("export_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.argument("out_dir", type=click.Path(file_okay=False, path_type=Path))
@CONFIG_OPTION
def harvest_command(export_dir: Path, out_dir: Path, config_file: Path) -> None:
    """Turn EXPORT_DIR (`python -m webapp review export`) into a YOLO data set in OUT_DIR for `models train`."""
    config = training.load_training_config(config_file)
    try:
        result = harvest.harvest(export_dir=export_dir, out_dir=out_dir, config=config.harvest)
    except harvest.HarvestError as error:
        raise click.ClickException(str(error)) from error
    for split, counts in result.counts.items():
        click.echo(f"{split:<6}{counts['objects']:>6} objects{counts['hard_negatives']:>6} hard negatives")
    click.echo(f"classes: {', '.join(result.names)}\ndata: {result.data_yaml}")


if __name__ == "__main__":
    models()
