"""`python -m vision analyze`: run the pipeline over a video file or an image folder, write events and evidence."""
import argparse
import datetime as dt
import json
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

from tqdm import tqdm

import config as settings
from config.base import ConfigFileError
from config.sources import TelemetryConfig
from config.vision import VisionConfig, load_vision_config, load_zones
from vision.detector import Detector, ModelUnavailableError, load_detector
from vision.drone import TelemetryMapper
from vision.events import ViolationEvent
from vision.evidence import CaptionContext, EvidenceWriter
from vision.motion import EgoMotion
from vision.pipeline import AnalysisReport, Pipeline
from vision.plates.evidence import PlateEvidence, load_reader
from vision.sources import FrameSource, ImageFolderSource, SourceError, VideoFileSource
from vision.telemetry import TelemetryError
from vision.worker import zone_of

EVENTS_FILE = "events.json"
EVIDENCE_DIR = "evidence"
UTC = ZoneInfo("UTC")


def open_media(
    path: Path, *, source_id: str, analysis_fps: float, times_file: Path | None = None
) -> FrameSource:
    """A folder of stills (at the times in `times_file`, else `analysis_fps` apart) or a video file analysed at
    `analysis_fps` of media time."""
    if path.is_dir():
        return ImageFolderSource(path, source_id=source_id, fps_assumed=analysis_fps, times_file=times_file)
    return VideoFileSource(path, source_id=source_id, analysis_fps=analysis_fps)


def caption_context(source: FrameSource, *, timezone: ZoneInfo, start: dt.datetime | None) -> CaptionContext:
    """Wall-clock time of media time zero: `start` when given (naive: in `timezone`), else the file's creation time."""
    if start is not None:
        aware = start if start.tzinfo is not None else start.replace(tzinfo=timezone)
        return CaptionContext(timezone=timezone, media_start=aware, start_basis="given")
    if isinstance(source, VideoFileSource) and source.creation_time is not None:
        return CaptionContext(timezone=timezone, media_start=source.creation_time, start_basis="file_metadata")
    return CaptionContext(timezone=timezone)


def analyze(
    media: Path,
    *,
    out_dir: Path,
    zones_file: Path | None = None,
    config: VisionConfig | None = None,
    detector: Detector | None = None,
    show_progress: bool = False,
    timezone: ZoneInfo = UTC,
    start: dt.datetime | None = None,
    times_file: Path | None = None,
    telemetry: TelemetryConfig | None = None,
    stabilize: bool = False,
) -> tuple[AnalysisReport, list[ViolationEvent]]:
    """Analyse `media`, writing out_dir/events.json and out_dir/evidence/*.jpg; the report and every event.

    A drone's footage: `telemetry` (its flight's SRT) locates each event on the ground, as the worker does, and
    `stabilize` follows the camera's own motion so that a parked car or a stall keeps still; its image zones are
    then in the first frame's pixels.

    Bad input fails before the model loads: ConfigFileError (the zone file), TelemetryError (the SRT),
    FileNotFoundError or SourceError (the media); a file that ends early is analysed as far as it goes
    (`report.ended_early` says so)."""
    config = config or load_vision_config()
    camera = load_zones(zones_file, config) if zones_file is not None else None
    source_id = camera.source_id if camera is not None else media.stem
    locate = TelemetryMapper.from_srt(Path(telemetry.srt), focal_35mm=telemetry.focal_35mm) if telemetry else None
    try:
        zones = [zone_of(zone, locate, source_id, stabilized=stabilize) for zone in camera.zones] if camera else []
    except ValueError as error:
        raise ConfigFileError(zones_file, str(error)) from error
    source = open_media(media, source_id=source_id, analysis_fps=config.analysis_fps, times_file=times_file)
    with source:
        detector = detector or load_detector(config.detector)
        reader = load_reader(config.plates)
        plates = PlateEvidence(reader, out_dir / EVIDENCE_DIR, config.evidence.jpeg_quality) if reader else None
        pipeline = Pipeline(
            source_id=source_id,
            detector=detector,
            zones=zones,
            config=config,
            evidence=EvidenceWriter(out_dir / EVIDENCE_DIR, config.evidence,
                                    caption_context(source, timezone=timezone, start=start), plates=plates),
            locate=locate,
            motion=EgoMotion(config.motion) if stabilize else None,
        )
        events: list[ViolationEvent] = []
        # disable=None: no bar where stderr is not a terminal, so it holds only what went wrong
        with tqdm(desc=source_id, unit="frame", disable=None if show_progress else True) as progress:
            report = pipeline.run(source, events.append, on_frame=lambda _frame: progress.update())
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / EVENTS_FILE).write_text(
        json.dumps([event.to_dict() for event in events], ensure_ascii=False, indent=2), encoding="utf-8"
    )
    return report, events


def tile_grid_argument(text: str) -> dict[str, int]:
    """`3x3` -> {"columns": 3, "rows": 3}."""
    columns, sep, rows = text.lower().partition("x")
    if not sep or not columns.isdigit() or not rows.isdigit():
        raise argparse.ArgumentTypeError(f"--tiles: expected COLUMNSxROWS such as 3x3, got {text!r}")
    return {"columns": int(columns), "rows": int(rows)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m vision", description="GridPatrol vision tools",
        epilog="also: `python -m vision worker` (the configured sources, see README) and "
               "`python -m vision models --help` (train, evaluate, export)",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    command = commands.add_parser("analyze", help="analyse a video file or an image folder")
    command.add_argument("media", type=Path, help="video file or folder of stills")
    command.add_argument("--model", help="model path (default: detector.model in config/vision.yaml)")
    command.add_argument("--zones", type=Path, help="the camera's zone file (config/zones/*.yaml)")
    command.add_argument("--out", type=Path, required=True, help="folder for events.json and evidence/")
    command.add_argument("--times", type=Path, help="a folder of stills: CSV `image,time` of each still's time")
    command.add_argument("--rate", type=float, help="analysed frames per second of media time")
    command.add_argument("--config", type=Path, help="vision settings (default: config/vision.yaml)")
    command.add_argument("--srt", type=Path, help="a drone's flight log (DJI SRT): each event is located on the ground")
    command.add_argument("--focal-35mm", type=float, default=TelemetryConfig.model_fields["focal_35mm"].default,
                         help="with --srt: the drone camera's 35 mm-equivalent focal length (default: %(default)s)")
    command.add_argument("--stabilize", action="store_true",
                         help="a moving camera (drone): follow its own motion so parked objects keep still; "
                              "image zones are then in the first frame's pixels")
    command.add_argument(
        "--tiles", type=tile_grid_argument, metavar="COLUMNSxROWS",
        help="tiled detection for small far objects, e.g. 3x3 (default: detector.tiles; see config/vision.yaml)",
    )
    command.add_argument(
        "--start", type=dt.datetime.fromisoformat,
        help="wall-clock time of the media's first frame, ISO 8601 (without a zone: the bureau's, calendar.timezone); "
             "default: a video's creation_time tag, else captions give media time only",
    )
    args = parser.parse_args(argv)

    overrides: dict = {}
    if args.model:
        overrides["detector"] = {"model": args.model}
    if args.rate:
        overrides["analysis_fps"] = args.rate
    if args.tiles:
        overrides.setdefault("detector", {})["tiles"] = args.tiles
    config = load_vision_config(args.config, overrides) if args.config else load_vision_config(overrides=overrides)
    try:
        report, _events = analyze(
            args.media, out_dir=args.out, zones_file=args.zones, config=config, show_progress=True,
            timezone=ZoneInfo(settings.load().calendar.timezone), start=args.start,
            times_file=args.times, stabilize=args.stabilize,
            telemetry=TelemetryConfig(srt=str(args.srt), focal_35mm=args.focal_35mm) if args.srt else None,
        )
    except (ModelUnavailableError, ConfigFileError, FileNotFoundError, SourceError, TelemetryError) as exc:
        parser.exit(2, f"error: {exc}\n")
    print(report.summary())
    print(f"written: {args.out / EVENTS_FILE}, {args.out / EVIDENCE_DIR}/")
    if report.ended_early is not None:
        print(f"error: {report.ended_early}", file=sys.stderr)
        return 2
    return 0
