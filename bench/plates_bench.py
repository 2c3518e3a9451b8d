"""What reading plates costs per parking event: `python -m bench.plates_bench [--out JSON]`.

Plates are read only on an event's evidence photos (two per event), never on every frame. This runs real
footage through `vision.analyze` with plates enabled and sums each event's plate time (`plate.read_ms`),
beside the analysis time of the same run: a 640x360 street camera clip, and a 1920x1080 still of a parked
car with a readable plate shown for 12 s.
"""
from __future__ import annotations

import argparse
import json
import platform
import shutil
import tempfile
import time
from pathlib import Path

import yaml

from config.vision import load_vision_config
from vision.analyze import analyze
from vision.detector import load_detector
from vision.plates.lprnet import export_onnx

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
MODEL = SHARED / "models" / "yolo11n_int8_openvino_model"
PLATES = SHARED / "models" / "plates"
STILL = SHARED / "data" / "plates" / "hyperlpr_samples" / "test_img.jpg"
CLIP = SHARED / "data" / "media" / "cctv_street_no_parking_zone.mp4"
CLIP_ZONES = ROOT / "config" / "zones" / "cctv_street_no_parking_zone.yaml"
STILL_ZONES = {"source_id": "plate_still", "zones": [{
    "id": "kerb", "kind": "no_parking", "polygon": [[500, 650], [1919, 650], [1919, 1079], [500, 1079]],
    "dwell_s": 2, "second_photo_after_s": 4}]}
STILL_FRAMES = 24  # 12 s at the analysis rate of 2 frames a second


def run(media: Path, zones: Path, config, detector, work: Path, times: Path | None = None) -> dict:
    """One analysis with plates on: events, their plate reads and costs, and the whole run's time."""
    started = time.perf_counter()
    report, events = analyze(media, out_dir=work / media.stem, zones_file=zones, config=config, detector=detector,
                             times_file=times)
    seconds = time.perf_counter() - started
    per_event = {}
    for event in events:
        if event.plate is not None:
            per_event[event.event_id] = event.plate
    reads = [{"event": event_id, "text": plate["text"], "reason": plate.get("reason"),
              "confidence": plate["confidence"], "read_ms": plate["read_ms"]} for event_id, plate in per_event.items()]
    plate_ms = sum(read["read_ms"] for read in reads)
    return {"media": media.name, "frames": report.frames_analysed, "events": len(reads),
            "analysis_s": round(seconds, 2), "plate_ms_total": round(plate_ms, 1),
            "plate_ms_per_event": round(plate_ms / len(reads), 1) if reads else None,
            "plate_share_of_run": round(plate_ms / 1000 / seconds, 4) if seconds else None, "reads": reads}


def still_folder(work: Path) -> tuple[Path, Path, Path]:
    """The still repeated as a folder of frames, its times file and a zone file around the parked car."""
    folder = work / "plate_still"
    folder.mkdir(parents=True)
    rows = ["image,time"]
    for index in range(STILL_FRAMES):
        name = f"{index:03d}.jpg"
        shutil.copyfile(STILL, folder / name)
        rows.append(f"{name},{index * 0.5}")
    times, zones = work / "times.csv", work / "zones.yaml"
    times.write_text("\n".join(rows) + "\n", encoding="utf-8")
    zones.write_text(yaml.safe_dump(STILL_ZONES), encoding="utf-8")
    return folder, zones, times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, help="JSON file to write")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temp:
        work = Path(temp)
        onnx = export_onnx(PLATES / "Final_LPRNet_model.pth", work / "lprnet.onnx")
        config = load_vision_config(overrides={
            "detector": {"model": str(MODEL)},
            "plates": {"enabled": True, "detector": str(PLATES / "y5fu_320x_sim.onnx"),
                       "classifier": str(PLATES / "litemodel_cls_96x_r1.onnx"), "recognizer": str(onnx)}})
        detector = load_detector(config.detector)
        folder, zones, times = still_folder(work)
        results = {"machine": f"{platform.machine()} {platform.processor()}".strip(), "plates_threads": 1,
                   "runs": [run(folder, zones, config, detector, work, times), run(CLIP, CLIP_ZONES, config, detector, work)]}
    text = json.dumps(results, indent=2, ensure_ascii=False)
    print(text)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
