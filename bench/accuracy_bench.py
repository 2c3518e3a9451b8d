"""Violation-level accuracy of the shipped pipeline on every clip with ground truth (bench/groundtruth/*.yaml).

    .venv/bin/python -m bench.accuracy_bench                 # every clip: table + bench/results/accuracy_<date>.json
    .venv/bin/python -m bench.accuracy_bench --clips cctv_street_no_parking_zone

The model runs once per clip frame that any analysed rate needs; its boxes are cached on disk
(var/accuracy_cache, keyed by model, input shape, confidence floor, clip and frame), so the rates and dwells
re-run only tracking, zones, dwell rules and events. The pipeline (vision.pipeline.Pipeline with evidence
photos) is the one `vision analyze` runs. Scoring: bench/accuracy.py.
"""
import argparse
import datetime as dt
import hashlib
import json
import pickle
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bench.accuracy import (
    GROUNDTRUTH_DIR, GroundTruth, ReportedEvent, Score, TrueViolation, all_groundtruth, load_groundtruth, score,
)
from config.vision import VisionConfig, load_vision_config
from tests.requirements import SHARED_DIR
from vision.detections import UNTRACKED, Detections
from vision.detector import load_detector
from vision.evidence import EvidenceWriter
from vision.motion import EgoMotion
from vision.pipeline import Pipeline
from vision.sources import Frame, FrameSource, ImageFolderSource, VideoFileSource, _FrameSelector
from vision.zones import Zone

REPO = Path(__file__).resolve().parents[1]
CACHE_DIR = REPO / "var" / "accuracy_cache"
RESULTS_DIR = REPO / "bench" / "results"
ACCURACY_RATES = (1.0, 2.0, 5.0)  # analysed frames per second
SHORT_DWELLS_S = (3.0, 5.0, 10.0)
SWEEP_RATES = tuple(float(rate) for rate in range(1, 11))
SWEEP_DWELLS_S = (3.0, 5.0, 10.0, 30.0, 60.0)
OWN = "zone"  # the dwell of each zone, as its zone file says

Dwell = float | str  # seconds, or OWN


@dataclass(frozen=True)
class Plan:
    """What to run: the rates and dwells scored, the hard-negative sweep's, and how much of each clip."""

    rates: tuple[float, ...] = ACCURACY_RATES
    dwells: tuple[Dwell, ...] = (OWN, *SHORT_DWELLS_S)
    sweep_rates: tuple[float, ...] = SWEEP_RATES
    sweep_dwells: tuple[Dwell, ...] = (OWN, *SWEEP_DWELLS_S)
    sweep: bool = True
    until_s: float | None = None  # only the clip's first seconds (a slice for a quick check)
    cache_dir: Path = CACHE_DIR


@dataclass(frozen=True)
class Setting:
    rate: float | None  # None: stills, every one analysed at its own time
    dwell: Dwell

    @property
    def label(self) -> str:
        rate = "stills" if self.rate is None else f"{self.rate:g} fps"
        dwell = "zone dwell" if self.dwell == OWN else f"dwell {self.dwell:g} s"
        return f"{rate}, {dwell}"


def shipped_config(truth: GroundTruth) -> VisionConfig:
    """config/vision.yaml with the clip's model and input shape."""
    detector = {"model": str(truth.model_path), "runtime": "auto", "openvino": {"input_shape": truth.input_shape}}
    if truth.tiles is not None:
        detector["tiles"] = truth.tiles.model_dump()
    return load_vision_config(overrides={"detector": detector})


def open_clip(truth: GroundTruth, rate: float | None, truth_path: Path) -> FrameSource:
    media = SHARED_DIR / truth.media
    if truth.times is not None:
        return ImageFolderSource(media, source_id=truth.clip, times_file=truth_path.parent / truth.times)
    if truth.seconds_per_still is not None:
        return ImageFolderSource(media, source_id=truth.clip, fps_assumed=1 / truth.seconds_per_still)
    return VideoFileSource(media, source_id=truth.clip, analysis_fps=rate)


class DetectionCache:
    """The detector's boxes per clip frame, on disk; the model runs only on frames not yet cached."""

    def __init__(self, truth: GroundTruth, config: VisionConfig, folder: Path = CACHE_DIR) -> None:
        detector = config.detector
        # the model's files (size and time) too: a model retrained in place is another model
        model = truth.model_path
        files = sorted(model.rglob("*")) if model.is_dir() else [model]
        stamp = [(f.name, f.stat().st_size, f.stat().st_mtime_ns) for f in files if f.is_file()]
        key = f"{truth.model}|{stamp}|{truth.input_shape}|{detector.conf}|{detector.iou}|{detector.agnostic_nms}|" \
              f"{sorted(detector.class_map.items())}|{sorted(detector.class_conf.items())}|{truth.media}" + \
              (f"|{detector.tiles}" if detector.tiles.enabled else "")
        digest = hashlib.sha256(key.encode()).hexdigest()[:16]
        self.path = folder / f"{truth.clip}-{digest}.pkl"
        self.config = config
        self.boxes: dict[int, tuple[np.ndarray, ...]] = (
            pickle.loads(self.path.read_bytes()) if self.path.is_file() else {}
        )

    def fill(self, frames: Iterator[tuple[int, np.ndarray]]) -> int:
        """Detect the frames not cached yet; how many the model ran on."""
        todo = [(index, image) for index, image in frames if index not in self.boxes]
        if not todo:
            return 0
        detector = load_detector(self.config.detector)
        for (index, _), found in zip(todo, detector.detect_iter([image for _, image in todo])):
            self.boxes[index] = (found.xyxy, found.confidence, found.class_id, found.kind)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_bytes(pickle.dumps(self.boxes))
        return len(todo)

    def get(self, index: int) -> Detections:
        xyxy, confidence, class_id, kind = self.boxes[index]
        return Detections(xyxy=xyxy, confidence=confidence, class_id=class_id, kind=kind,
                          track_id=np.full(len(xyxy), UNTRACKED, np.int64))


def read_frames(truth: GroundTruth, truth_path: Path, rate: float | None, until_s: float | None) -> Iterator[Frame]:
    """The clip's frames analysed at `rate` (stills: every still), up to `until_s`."""
    with open_clip(truth, rate, truth_path) as source:
        while (frame := source.read()) is not None and (until_s is None or frame.timestamp_s <= until_s):
            yield frame


def frames_needed(
    truth: GroundTruth, truth_path: Path, rates: list[float], until_s: float | None
) -> Iterator[tuple[int, np.ndarray]]:
    """Every frame (index, image) that any of `rates` analyses (stills: every still)."""
    selectors = [_FrameSelector(rate) for rate in rates]
    for frame in read_frames(truth, truth_path, None, until_s):
        # every selector sees every frame: a list, not any() over a generator
        if truth.is_stills or any([selector.due(frame.timestamp_s) for selector in selectors]):
            yield frame.index, frame.image


def run_settings(
    truth: GroundTruth, truth_path: Path, cache: DetectionCache, config: VisionConfig, rate: float | None,
    dwells: list[Dwell], evidence_dir: Path, until_s: float | None = None,
) -> dict[Dwell, list[ReportedEvent]]:
    """One pass over the clip at `rate`, one pipeline per dwell fed the same frames; each pipeline's start events."""
    run_config = config.model_copy(update={"analysis_fps": rate or stills_rate(truth, truth_path)})
    pipelines = {dwell: make_pipeline(truth, run_config, dwell, evidence_dir / f"{rate}-{dwell}") for dwell in dwells}
    events: dict[Dwell, list] = {dwell: [] for dwell in dwells}
    for frame in read_frames(truth, truth_path, rate, until_s):
        detections = cache.get(frame.index)
        for dwell, pipeline in pipelines.items():
            events[dwell].extend(pipeline.process(frame, detections))
    return {dwell: started(events[dwell] + pipeline.finish()) for dwell, pipeline in pipelines.items()}


def stills_rate(truth: GroundTruth, truth_path: Path) -> float:
    """The mean rate of a still sequence (the tracker counts its memory in frames)."""
    if truth.seconds_per_still is not None:
        return 1 / truth.seconds_per_still
    source = open_clip(truth, None, truth_path)
    assert isinstance(source, ImageFolderSource)
    span = source._timestamps[-1] - source._timestamps[0]
    return max(len(source.paths) - 1, 1) / span if span > 0 else 1.0


def make_pipeline(truth: GroundTruth, config: VisionConfig, dwell: Dwell, evidence_dir: Path) -> Pipeline:
    zones = [Zone.from_config(zone) for zone in truth.zone_configs(None if dwell == OWN else float(dwell))]
    return Pipeline(
        source_id=truth.clip, detector=None, zones=zones, config=config,  # type: ignore[arg-type]  # detections given
        evidence=EvidenceWriter(evidence_dir, config.evidence),
        motion=EgoMotion(config.motion) if truth.stabilize else None,
    )


def started(events: list) -> list[ReportedEvent]:
    return [
        ReportedEvent(zone_id=e.zone_id, rule=e.rule, reported_s=round(e.last_seen_s, 3),
                      box=tuple(round(v, 1) for v in e.box_xyxy), event_id=e.event_id)
        for e in events if e.phase == "start"
    ]


def dwell_of_zones(truth: GroundTruth, dwell: Dwell) -> dict[str, float]:
    return {zone.id: zone.dwell_s for zone in truth.zone_configs(None if dwell == OWN else float(dwell))}


def evaluate_clip(
    truth: GroundTruth, truth_path: Path, *, plan: Plan = Plan(), log: Callable[[str], None] = print
) -> dict[str, Any]:
    """Every setting of one clip: accuracy on its scored zones, and the hard-negative sweep on its carriageway."""
    config = shipped_config(truth)
    hard_negative = plan.sweep and truth.moving_traffic and bool(truth.carriageway)
    scored_rates = {*plan.rates, config.analysis_fps}
    rates: list[float | None] = [None] if truth.is_stills else sorted(
        scored_rates | (set(plan.sweep_rates) if hard_negative else set())
    )
    cache = DetectionCache(truth, config, plan.cache_dir)
    started_at = time.perf_counter()
    ran = cache.fill(frames_needed(truth, truth_path, [r for r in rates if r is not None], plan.until_s))
    log(f"{truth.clip}: model ran on {ran} new frames ({len(cache.boxes)} cached) in "
        f"{time.perf_counter() - started_at:.1f} s")
    scored_zones = {zone["id"] for zone in truth.scored_zones}
    carriageway_zones = {zone["id"] for zone in truth.carriageway}
    violations = within(truth, plan.until_s)
    accuracy: list[dict[str, Any]] = []
    sweep_runs: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="accuracy-evidence-") as evidence_root:
        for rate in rates:
            scored = rate is None or rate in scored_rates
            swept = hard_negative and (rate is None or rate in plan.sweep_rates)
            dwells = list(dict.fromkeys([*(plan.dwells if scored else ()), *(plan.sweep_dwells if swept else ())]))
            events_by_dwell = run_settings(truth, truth_path, cache, config, rate, dwells, Path(evidence_root),
                                           plan.until_s)
            for dwell, events in events_by_dwell.items():
                if scored and scored_zones and dwell in plan.dwells:
                    result = score([e for e in events if e.zone_id in scored_zones], violations,
                                   dwell_of_zones(truth, dwell), exhaustive=truth.exhaustive,
                                   margin_s=truth.dwell_margin_s)
                    accuracy.append({"rate": rate, "dwell": dwell, "label": Setting(rate, dwell).label,
                                     **result.to_dict()})
                if swept and dwell in plan.sweep_dwells:
                    wrong = [e for e in events if e.zone_id in carriageway_zones]
                    sweep_runs.append({"rate": rate, "dwell": dwell, "events": len(wrong),
                                       "event_list": [asdict(e) for e in wrong]})
    return {"clip": truth.clip, "groundtruth": str(truth_path.relative_to(REPO)), "media": truth.media,
            "model": truth.model, "violations": len(truth.violations), "accuracy": accuracy,
            "hard_negative": sweep_runs if hard_negative else None}


def within(truth: GroundTruth, until_s: float | None) -> list[TrueViolation]:
    """The violations of the clip's first `until_s` seconds, cut at that time."""
    if until_s is None:
        return truth.violations
    return [v.model_copy(update={"to_s": min(v.to_s, until_s)}) for v in truth.violations if v.from_s <= until_s]


def totals(clips: list[dict[str, Any]], rate: float | None, dwell: Dwell) -> Score:
    """The sum over clips of one setting (stills count at every rate: they have one)."""
    total = Score()
    for clip in clips:
        for row in clip["accuracy"]:
            if row["dwell"] == dwell and (row["rate"] == rate or row["rate"] is None):
                total.add(Score(**{k: row[k] for k in (
                    "true_positives", "false_positives", "unjudged", "misses", "duplicates", "not_expected", "delays_s",
                    "false_positive_events", "duplicate_events", "missed")}))
    return total


def fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def table(clips: list[dict[str, Any]], shipped_rate: float) -> str:
    lines = [f"{'clip':34} {'setting':26} {'TP':>3} {'FP':>3} {'miss':>4} {'dup':>3} {'prec':>5} {'rec':>5} "
             f"{'delay s':>7}"]
    for clip in clips:
        for row in clip["accuracy"]:
            lines.append(f"{clip['clip']:34} {row['label']:26} {row['true_positives']:3} {row['false_positives']:3} "
                         f"{row['misses']:4} {row['duplicates']:3} {fmt(row['precision']):>5} {fmt(row['recall']):>5} "
                         f"{fmt(row['delay_s_mean']):>7}")
    lines.append("")
    for rate in ACCURACY_RATES:
        for dwell in (OWN, *SHORT_DWELLS_S):
            total = totals(clips, rate, dwell)
            label = Setting(rate, dwell).label + (" (shipped)" if rate == shipped_rate and dwell == OWN else "")
            lines.append(f"{'TOTAL':34} {label:26} {total.true_positives:3} {total.false_positives:3} "
                         f"{total.misses:4} {total.duplicates:3} {fmt(total.precision):>5} {fmt(total.recall):>5} "
                         f"{fmt(float(np.mean(total.delays_s)) if total.delays_s else None):>7}")
    lines.append("")
    lines.append("hard-negative sweep (events from carriageway zones; must be 0):")
    for clip in clips:
        if clip["hard_negative"] is None:
            continue
        bad = [run for run in clip["hard_negative"] if run["events"]]
        runs = len(clip["hard_negative"])
        detail = ", ".join(f"{'stills' if run['rate'] is None else format(run['rate'], 'g') + ' fps'}/dwell "
                           f"{run['dwell']}: {run['events']}" for run in bad[:8])
        lines.append(f"  {clip['clip']:34} {runs} runs, {len(bad)} with events" + (f" ({detail})" if bad else ""))
    return "\n".join(lines)


def log_to_stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def evaluate_file(path: Path, plan: Plan) -> dict[str, Any]:
    return evaluate_clip(load_groundtruth(path), path, plan=plan, log=log_to_stderr)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", help="comma-separated clip names (default: every ground-truth file)")
    parser.add_argument("--groundtruth", type=Path, default=GROUNDTRUTH_DIR, help="folder of ground-truth files")
    parser.add_argument("--no-sweep", action="store_true", help="skip the hard-negative sweep (rates 1-10)")
    parser.add_argument("--jobs", type=int, default=1, help="clips analysed side by side (processes)")
    parser.add_argument("--out", type=Path, help="JSON file (default: bench/results/accuracy_<date>.json)")
    args = parser.parse_args(argv)
    wanted = set(args.clips.split(",")) if args.clips else None
    chosen = [(path, truth) for path, truth in all_groundtruth(args.groundtruth)
              if wanted is None or truth.clip in wanted]
    skipped = [{"clip": truth.clip, "why": truth.not_run} for _, truth in chosen if truth.not_run is not None]
    paths = [path for path, truth in chosen if truth.not_run is None]
    plan = Plan(sweep=not args.no_sweep)
    with ProcessPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        clips = list(pool.map(evaluate_file, paths, [plan] * len(paths)))
    shipped_rate = load_vision_config().analysis_fps
    shipped = totals(clips, shipped_rate, OWN)
    sweep_events = sum(run["events"] for clip in clips for run in (clip["hard_negative"] or []))
    report = {
        "date": dt.date.today().isoformat(), "shipped_rate": shipped_rate,
        "shipped": shipped.to_dict(), "hard_negative_events": sweep_events,
        "clips": clips, "not_analysed": skipped,
    }
    out = args.out or RESULTS_DIR / f"accuracy_{dt.date.today().isoformat()}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=1, default=str) + "\n", encoding="utf-8")
    print(table(clips, shipped_rate))
    for entry in skipped:
        print(f"not analysed: {entry['clip']}: {entry['why']}")
    print(f"written: {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
