"""`python -m vision plates {export,evaluate,read}`: build the recogniser, score it, read one image."""
from __future__ import annotations

import json
import platform
from pathlib import Path

import click
import yaml

from config.vision import VISION_FILE, PlatesConfig, load_vision_config

CONFIG_OPTION = click.option(
    "--config", "config_file", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=VISION_FILE,
    show_default=True, help="vision settings (YAML) whose `plates` section names the models",
)


def _settings(config_file: Path) -> PlatesConfig:
    return load_vision_config(config_file).plates


@click.group("plates")
def plates() -> None:
    """Licence plates: export LPRNet to ONNX, evaluate the reader, read an image."""


@plates.command("export")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="ONNX file to write [plates.recognizer]")
@CONFIG_OPTION
def export_command(out: Path | None, config_file: Path) -> None:
    """Write LPRNet (plates.weights, a PyTorch state_dict) as ONNX for onnxruntime."""
    from vision.plates.lprnet import export_onnx  # torch: only here, never on the hot path

    settings = _settings(config_file)
    click.echo(f"wrote {export_onnx(Path(settings.weights), out or Path(settings.recognizer))}")


@plates.command("evaluate")
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--scenes", is_flag=True, help="end to end: FOLDER holds scene images, not labelled crops")
@click.option("--truth", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="scenes: YAML of file name -> plate text")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="JSON file to write")
@CONFIG_OPTION
def evaluate_command(folder: Path, scenes: bool, truth: Path | None, out: Path | None, config_file: Path) -> None:
    """Crops (file name = plate text): exact match, character accuracy, per province, speed; or --scenes."""
    from vision.plates.evaluate import evaluate_crops, evaluate_scenes
    from vision.plates.reader import PlateReader

    reader = PlateReader(_settings(config_file))
    if scenes:
        labels = yaml.safe_load(truth.read_text(encoding="utf-8")) if truth else {}
        result = evaluate_scenes(reader, folder, labels or {})
    else:
        result = evaluate_crops(reader, folder)
    result = {"folder": str(folder), "machine": f"{platform.machine()} {platform.processor()}".strip(), **result}
    summary = {k: v for k, v in result.items() if k not in ("errors", "results", "per_province")}
    click.echo(json.dumps(summary, indent=2, ensure_ascii=False))
    if out:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        click.echo(f"wrote {out}")


@plates.command("read")
@click.argument("image", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--crop", "is_crop", is_flag=True, help="IMAGE is a plate crop, not a scene")
@CONFIG_OPTION
def read_command(image: Path, is_crop: bool, config_file: Path) -> None:
    """Read the plate in one image and print the reading as JSON."""
    from vision.plates.evaluate import read_image
    from vision.plates.reader import PlateReader

    reader = PlateReader(_settings(config_file))
    picture = read_image(image)
    reading = reader.read_crop(picture) if is_crop else reader.read_vehicle(picture)
    click.echo(json.dumps({**reading.as_event(), "box": reading.box}, ensure_ascii=False))
