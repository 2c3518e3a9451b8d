"""Build the street-stall training set and its starting checkpoint (SOURCES.md beside this file says why).

    python -m vision.models.street_stall.make_dataset runs/datasets/street_stall

writes OUT/data.yaml (COCO's 80 classes + `stall`, id 80), OUT/{train,val,test}/{images,labels}, OUT/start.pt:
- train: the first half (stills 0-44) of the Da Nang pavement-stall stills and 17 Da Nang kerb-parking stills
  (every 30th; no stall on them: hard negatives, one pedestrian's umbrella among them);
- val: the second half (stills 45-90), never trained on;
- test: 17 other kerb-parking stills (every 30th from 15: none trained on) with the teacher's labels only:
  how far the trained model still agrees with the COCO model on COCO's classes (`models evaluate --split test`);
- labels: the hand-drawn stall boxes of stall_boxes.csv, and every other object the teacher (the COCO model
  the stall model starts from) finds at `--teacher-conf` or more, under its COCO class: the COCO classes are
  taught as the teacher sees them, not as background;
- start.pt: the COCO checkpoint with an 81-class head, the 80 COCO rows of its class layers copied over, the
  stall row initialised as Ultralytics initialises a class, so training starts from the COCO model unchanged;
  and its BatchNorm layers given the statistics of their inputs on the training images. The shared
  checkpoint was rebuilt from an INT8 IR with every BatchNorm an identity plus bias (mean 0, variance 1): in
  training mode BatchNorm normalises by the batch's statistics instead, which wrecked the model at once (mAP 0
  after one epoch, every COCO class too). Each layer now holds its input's mean and variance and a scale and
  bias that give the same function in eval mode, so training mode computes nearly the same too.
Then `python -m vision models train OUT/data.yaml --model OUT/start.pt --config vision/models/street_stall/training.yaml`.
"""
import argparse
import copy
import csv
import math
from pathlib import Path

import cv2
import torch
import yaml
from ultralytics import YOLO

from vision.training import REPO_ROOT, resolve_path

HERE = Path(__file__).resolve().parent
STALL_SET = "data/media/street_footage/danang-pavement-stall-stills"
NEGATIVE_SET = "data/media/street_footage/danang-kerb-parking-stills"
TEACHER = "../shared/models/yolo11n_coco_rebuilt.pt"
TRAIN_STILLS = range(0, 45)  # the first half of the 91 stills
VAL_STILLS = range(45, 91)
NEGATIVE_STILLS = range(0, 488, 30)
AGREEMENT_STILLS = range(15, 488, 30)
STALL = "stall"


def stills(folder: Path) -> list[Path]:
    with (folder / "index.csv").open(encoding="utf-8") as file:
        return [folder / row["image_path"] for row in csv.DictReader(file)]


def stall_boxes() -> dict[int, list[tuple[float, float, float, float]]]:
    lines = [line for line in (HERE / "stall_boxes.csv").read_text(encoding="utf-8").splitlines() if not line.startswith("#")]
    boxes: dict[int, list[tuple[float, float, float, float]]] = {}
    for row in csv.DictReader(lines):
        boxes.setdefault(int(row["still"]), []).append(tuple(float(row[k]) for k in ("x1", "y1", "x2", "y2")))
    return boxes


def yolo_line(class_id: int, box: tuple[float, float, float, float], width: int, height: int) -> str:
    x1, y1, x2, y2 = box
    return f"{class_id} {(x1 + x2) / 2 / width:.6f} {(y1 + y2) / 2 / height:.6f} {(x2 - x1) / width:.6f} {(y2 - y1) / height:.6f}"


def write_split(out: Path, split: str, images: list[tuple[Path, list]], teacher: YOLO, conf: float, stall_id: int) -> None:
    (out / split / "images").mkdir(parents=True, exist_ok=True)
    (out / split / "labels").mkdir(parents=True, exist_ok=True)
    for image, stalls in images:
        result = teacher.predict(str(image), imgsz=640, conf=conf, verbose=False)[0]
        height, width = result.orig_shape
        lines = [yolo_line(int(c), tuple(b), width, height)
                 for b, c in zip(result.boxes.xyxy.tolist(), result.boxes.cls.tolist())]  # fmt: skip
        lines += [yolo_line(stall_id, box, width, height) for box in stalls]
        link = out / split / "images" / image.name
        if not link.exists():
            link.symlink_to(image)
        (out / split / "labels" / f"{image.stem}.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")


def calibrate_batchnorm(model: torch.nn.Module, images: list[Path]) -> None:
    """Give each BatchNorm its input's per-channel mean and variance on `images`, keeping the eval function."""
    norms = [m for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    sums: dict[int, list[torch.Tensor]] = {}

    def hook(module: torch.nn.Module, inputs: tuple[torch.Tensor, ...], _output: torch.Tensor) -> None:
        x = inputs[0].detach().double()
        stats = sums.setdefault(id(module), [torch.zeros(x.shape[1], dtype=torch.float64)] * 2 + [0])
        stats[0] = stats[0] + x.sum(dim=(0, 2, 3))
        stats[1] = stats[1] + (x * x).sum(dim=(0, 2, 3))
        stats[2] += x.shape[0] * x.shape[2] * x.shape[3]

    handles = [norm.register_forward_hook(hook) for norm in norms]
    model.float().eval()
    with torch.no_grad():
        for image in images:
            pixels = cv2.resize(cv2.imread(str(image)), (640, 640))[:, :, ::-1].transpose(2, 0, 1) / 255.0
            model(torch.from_numpy(pixels.copy()).float()[None])
    for handle in handles:
        handle.remove()
    with torch.no_grad():
        for norm in norms:
            total, squares, count = sums[id(norm)]
            mean = total / count
            var = (squares / count - mean * mean).clamp(min=1e-6)
            scale = norm.weight.double() / torch.sqrt(norm.running_var.double() + norm.eps)  # y = scale x + shift
            shift = norm.bias.double() - norm.running_mean.double() * scale
            norm.running_mean.copy_(mean.float())
            norm.running_var.copy_(var.float())
            norm.weight.copy_((scale * torch.sqrt(var + norm.eps)).float())
            norm.bias.copy_((shift + scale * mean).float())


def start_checkpoint(teacher_path: Path, names: dict[int, str], out: Path, images: list[Path]) -> None:
    """The teacher with one more class: its class rows copied, the new row as Ultralytics' bias_init; its
    BatchNorm layers calibrated on `images`."""
    teacher = YOLO(str(teacher_path)).model
    student = copy.deepcopy(teacher).float()
    calibrate_batchnorm(student, images)
    head = student.model[-1]
    old = head.nc
    for level, branch in enumerate(head.cv3):
        conv: torch.nn.Conv2d = branch[-1]
        grown = torch.nn.Conv2d(conv.in_channels, old + 1, 1)
        with torch.no_grad():
            grown.weight[:old] = conv.weight
            grown.weight[old:] = 0.0
            grown.bias[:old] = conv.bias
            grown.bias[old:] = math.log(5 / (old + 1) / (640 / head.stride[level]) ** 2)
        branch[-1] = grown
    head.nc, head.no = old + 1, old + 1 + head.reg_max * 4
    student.nc = old + 1
    student.names = names
    student.yaml = {**student.yaml, "nc": old + 1}
    torch.save({"model": student.half(), "epoch": -1, "train_args": {}}, out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path)
    parser.add_argument("--shared", type=Path, default=REPO_ROOT.parent / "shared", help="the shared folder")
    parser.add_argument("--teacher-conf", type=float, default=0.5, help="confidence a teacher box needs to be a label")
    args = parser.parse_args()
    teacher_path = resolve_path(TEACHER)
    teacher = YOLO(str(teacher_path))
    names = {**dict(teacher.names), len(teacher.names): STALL}
    stall_id = len(teacher.names)
    boxes = stall_boxes()
    stall_stills = stills(args.shared / STALL_SET)
    negatives = stills(args.shared / NEGATIVE_SET)
    train = [(stall_stills[i], boxes.get(i, [])) for i in TRAIN_STILLS] + [(negatives[i], []) for i in NEGATIVE_STILLS]
    val = [(stall_stills[i], boxes.get(i, [])) for i in VAL_STILLS]
    out = args.out.resolve()
    write_split(out, "train", train, teacher, args.teacher_conf, stall_id)
    write_split(out, "val", val, teacher, args.teacher_conf, stall_id)
    write_split(out, "test", [(negatives[i], []) for i in AGREEMENT_STILLS], teacher, args.teacher_conf, stall_id)
    (out / "data.yaml").write_text(
        yaml.safe_dump({"path": str(out), "train": "train/images", "val": "val/images", "test": "test/images",
                        "names": names}, sort_keys=False),
        encoding="utf-8",
    )
    start_checkpoint(teacher_path, names, out / "start.pt", [image for image, _ in train])
    print(f"train {len(train)} images, val {len(val)} images, classes {len(names)}: {out / 'data.yaml'}, {out / 'start.pt'}")


if __name__ == "__main__":
    main()
