"""`python -m vision.model_cli {train,evaluate,export}`: fine-tune, score and export detection models."""
from __future__ import annotations

from pathlib import Path

import click

from vision import training

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
@click.option("--resume", is_flag=True, help="continue the newest run from its last.pt")
@CONFIG_OPTION
def train_command(
    data: Path | None,
    model: Path | None,
    name: str | None,
    epochs: int | None,
    time_hours: float | None,
    imgsz: int | None,
    batch: int | None,
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
        resume=resume,
    )
    click.echo(f"run: {result.save_dir}\nbest: {result.best}")
    for key, value in result.metrics.items():
        click.echo(f"  {key}: {value}")


if __name__ == "__main__":
    models()
