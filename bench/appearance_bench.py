"""How well the stay's appearance check tells one vehicle from another, on real crops of the shared clips.

    .venv/bin/python -m bench.appearance_bench

Each clip is analysed at 10 frames a second (model + ByteTrack, which follows every car at that rate);
pairs of sightings are then labelled from the tracks:
- same: one track, 0.5-10 s apart, its boxes overlapping (IoU >= 0.5: the object held still or crept);
- different: a second track's box overlapping (IoU >= 0.3) where the first track stood 0.2-5 s before,
  while the first is seen elsewhere at that moment (so two objects for certain): a second car where the
  first one stood, the chaining the check must refuse.
Prints, per descriptor setting, the similarity quantiles of both kinds and, per threshold, how many
same pairs it would break and how many different pairs it would chain; writes
bench/results/appearance_<date>.json.
"""
import os

os.environ.setdefault("YOLO_OFFLINE", "1")  # before ultralytics is imported: explicit model paths only

import argparse
import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from config.vision import AppearanceConfig, load_vision_config
from vision.appearance import Appearance
from vision.detector import Detector
from vision.dwell import box_iou
from vision.sources import VideoFileSource
from vision.tracking import Tracker

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("GRIDPATROL_SHARED", REPO.parent / "shared"))
MODEL = "models/yolo11n_int8_openvino_model"
RESULTS = REPO / "bench" / "results"
CLIPS = {  # vehicles parked, moving, queued
    "cctv_street": "data/media/cctv_street_no_parking_zone.mp4",
    "motorway": "data/media/degirum_pysdk_examples/Traffic.mp4",
    "drone_oblique_lot": "data/media/drone_oblique_parking_lot.mp4",
    "uadetrac_junction": "data/media/street_footage/uadetrac-junction.mp4",
}
SETTINGS = {  # name -> AppearanceConfig fields
    "hsv 8x4x4 inset 0.1": {"hue_bins": 8, "saturation_bins": 4, "value_bins": 4, "inset": 0.1},
    "hsv 16x8x4 inset 0.1": {"hue_bins": 16, "saturation_bins": 8, "value_bins": 4, "inset": 0.1},
    "hsv 4x4x8 inset 0.1": {"hue_bins": 4, "saturation_bins": 4, "value_bins": 8, "inset": 0.1},
    "hsv 8x4x4 inset 0.1 2 bands": {"hue_bins": 8, "saturation_bins": 4, "value_bins": 4, "inset": 0.1, "bands": 2},
    "hsv 4x4x8 inset 0.1 3 bands": {"hue_bins": 4, "saturation_bins": 4, "value_bins": 8, "inset": 0.1, "bands": 3},
}
THRESHOLDS = (0.4, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8)
ANALYSIS_FPS = 10.0
MIN_BOX_PX = 12  # smaller boxes hold too few pixels for a histogram: the rule falls back to place alone there


@dataclass
class Sighting:
    track_id: int
    timestamp_s: float
    box: np.ndarray
    looks: dict[str, np.ndarray]  # setting name -> histogram


def sightings_of(clip: Path, detector: Detector, config, appearances: dict[str, Appearance]) -> list[Sighting]:
    tracker = Tracker(config.tracker, analysis_fps=ANALYSIS_FPS)
    found: list[Sighting] = []
    with VideoFileSource(clip, source_id=clip.stem, analysis_fps=ANALYSIS_FPS) as source:
        while (frame := source.read()) is not None:
            detections = tracker.update(detector.detect(frame.image))
            sizes = detections.xyxy[:, 2:] - detections.xyxy[:, :2]
            keep = (detections.kind == "vehicle") & (detections.track_id >= 0) & (sizes.min(axis=1) >= MIN_BOX_PX)
            vehicles = detections[keep]
            looks = {name: appearance.describe(frame.image, vehicles.xyxy) for name, appearance in appearances.items()}
            for row in range(len(vehicles)):
                found.append(Sighting(int(vehicles.track_id[row]), frame.timestamp_s, vehicles.xyxy[row],
                                      {name: look[row] for name, look in looks.items()}))  # fmt: skip
    return found


def labelled_pairs(sightings: list[Sighting], rng: np.random.Generator, most: int) -> dict[str, list[tuple]]:
    """Sample (a, b) pairs of same and different objects (see the module docstring)."""
    times = np.array([s.timestamp_s for s in sightings])
    tracks = np.array([s.track_id for s in sightings])
    boxes = np.array([s.box for s in sightings])
    same, different = [], []
    for index, sighting in enumerate(sightings):
        gap = times - sighting.timestamp_s
        overlap = box_iou(sighting.box, boxes)
        same_rows = np.flatnonzero((tracks == sighting.track_id) & (gap >= 0.5) & (gap <= 10) & (overlap >= 0.5))
        other_rows = np.flatnonzero((tracks != sighting.track_id) & (gap >= 0.2) & (gap <= 5) & (overlap >= 0.3))
        same += [(index, int(row)) for row in same_rows]
        # The first object itself, seen elsewhere at the second's time: the spot now holds another one.
        moved_on = (tracks == sighting.track_id) & (overlap < 0.3)
        away_at = set(times[moved_on].tolist())
        different += [(index, int(row)) for row in other_rows if times[row] in away_at]
    pick = lambda pairs: [pairs[i] for i in rng.permutation(len(pairs))[:most]]  # noqa: E731
    return {"same": pick(same), "different": pick(different)}


def similarities(sightings: list[Sighting], pairs: list[tuple], setting: str) -> np.ndarray:
    return np.array([float(Appearance.similarity(sightings[a].looks[setting], sightings[b].looks[setting])[0])
                     for a, b in pairs])  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=3000, help="most pairs of each kind sampled per clip")
    args = parser.parse_args(argv)
    config = load_vision_config(overrides={"detector": {"model": str(SHARED / MODEL)}})
    detector = Detector(config.detector)
    appearances = {name: Appearance(AppearanceConfig(**fields)) for name, fields in SETTINGS.items()}
    rng = np.random.default_rng(12)
    scores: dict[str, dict[str, list[float]]] = {name: {"same": [], "different": []} for name in SETTINGS}
    per_clip: dict[str, dict[str, int]] = {}
    for clip_name, relative in CLIPS.items():
        sightings = sightings_of(SHARED / relative, detector, config, appearances)
        pairs = labelled_pairs(sightings, rng, args.pairs)
        per_clip[clip_name] = {kind: len(found) for kind, found in pairs.items()}
        print(f"{clip_name}: {len(sightings)} sightings, {per_clip[clip_name]} pairs")
        for name in SETTINGS:
            for kind, found in pairs.items():
                scores[name][kind] += similarities(sightings, found, name).tolist()
    report: dict = {"clips": per_clip, "analysis_fps": ANALYSIS_FPS, "settings": {}}
    for name, kinds in scores.items():
        same, different = np.array(kinds["same"]), np.array(kinds["different"])
        quantiles = {kind: [round(float(q), 3) for q in np.quantile(values, [0.01, 0.05, 0.5, 0.95, 0.99])]
                     for kind, values in (("same", same), ("different", different))}  # fmt: skip
        by_threshold = {
            str(t): {"same_broken": round(float((same < t).mean()), 4),
                     "different_chained": round(float((different >= t).mean()), 4)}
            for t in THRESHOLDS
        }  # fmt: skip
        report["settings"][name] = {"quantiles_1_5_50_95_99": quantiles, "thresholds": by_threshold,
                                    "pairs": {"same": len(same), "different": len(different)}}  # fmt: skip
        print(f"\n{name}: same {quantiles['same']}  different {quantiles['different']}")
        for t, row in by_threshold.items():
            print(f"  min_similarity {t}: same broken {row['same_broken']:.3f}, "
                  f"different chained {row['different_chained']:.3f}")
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"appearance_{dt.date.today().isoformat()}.json"
    out.write_text(json.dumps(report, indent=2), encoding="utf-8")
    print(f"\nwrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
