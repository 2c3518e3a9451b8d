"""A YOLO detector on OpenVINO directly: Ultralytics' letterbox, decode and NMS in numpy, no torch.

    detector = OpenVinoDetector(vision.detector)         # the same DetectorConfig as vision.detector.Detector
    detections = detector.detect(image)                   # one BGR image -> Detections
    per_image = detector.detect_many([image_a, image_b])  # several sources' frames, requests side by side

Boxes equal Ultralytics' `predict` on the same IR (its square letterbox, its NMS order and rules)
to well under a pixel; tests/vision/test_runtime.py holds that.
"""
import time
from collections import Counter, deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
import openvino as ov
import yaml
from openvino.preprocess import ColorFormat, PrePostProcessor

from config.vision import DetectorConfig
from vision.detections import UNTRACKED, Detections, class_floors
from config.vision import InputShape, RuntimeConfig
from vision.fast.reshape import reshape_yolo

PAD_VALUE = 114  # Ultralytics' letterbox grey
STRIDE = 32  # the largest stride of YOLO11/YOLOv8: rect inputs are multiples of it
MAX_WH = 7680  # Ultralytics' per-class box offset for class-aware NMS


class RuntimeUnavailableError(RuntimeError):
    """The configured model is not an OpenVINO IR this runtime can load."""


@dataclass(frozen=True)
class Letterbox:
    """Where an image lands in the network input `shape` (h, w): resized to `size` (w, h), offset by `pad`."""

    shape: tuple[int, int]
    size: tuple[int, int]
    pad: tuple[int, int]  # (left, top)
    gain: tuple[float, float]  # (x, y) input pixels per image pixel

    @classmethod
    def fit(cls, height: int, width: int, imgsz: int, *, stride: int | None = None) -> "Letterbox":
        """Ultralytics' LetterBox(center=True) and scale_boxes arithmetic, rounding included; with `stride`,
        auto=True: the input shrinks to the smallest multiple of stride around the resized image."""
        ratio = min(imgsz / height, imgsz / width)
        new_w, new_h = max(round(width * ratio), 1), max(round(height * ratio), 1)
        pad_w, pad_h = imgsz - new_w, imgsz - new_h
        if stride:
            pad_w, pad_h = pad_w % stride, pad_h % stride
        left, top = round(pad_w / 2 - 0.1), round(pad_h / 2 - 0.1)
        return cls(shape=(new_h + pad_h, new_w + pad_w), size=(new_w, new_h), pad=(left, top),
                   gain=(new_w / width, new_h / height))


@dataclass(eq=False)  # identity: engines key the requests in flight
class _Engine:
    """One compiled input shape: its requests and, per request, the preallocated letterbox canvas."""

    requests: list[ov.InferRequest]
    canvases: list[np.ndarray]
    geometry: list[tuple[tuple[int, int], tuple[int, int]] | None]  # per slot: the picture's size and offset
    free: list[int]  # slots whose request holds no image in flight


@dataclass
class StageTimes:
    """Seconds spent per stage over `frames` images; the detector adds to it on every call."""

    frames: int = 0
    preprocess_s: float = 0.0
    inference_s: float = 0.0  # waiting for the runtime (requests overlap, so this is wall time, not CPU)
    postprocess_s: float = 0.0
    images_by_shape: Counter[tuple[int, int]] = field(default_factory=Counter)  # network input (h, w) -> images

    def per_frame_ms(self) -> dict[str, float]:
        n = max(self.frames, 1)
        return {
            "preprocess": 1000 * self.preprocess_s / n,
            "inference": 1000 * self.inference_s / n,
            "postprocess": 1000 * self.postprocess_s / n,
        }


def read_class_names(model_dir: Path) -> dict[int, str]:
    """Class names from the metadata.yaml Ultralytics writes beside an exported IR."""
    metadata = model_dir / "metadata.yaml"
    if not metadata.is_file():
        raise RuntimeUnavailableError(f"no metadata.yaml (class names) beside the IR in {model_dir}")
    names = (yaml.safe_load(metadata.read_text(encoding="utf-8")) or {}).get("names")
    if not isinstance(names, dict) or not names:
        raise RuntimeUnavailableError(f"{metadata} names no classes")
    return {int(index): str(name) for index, name in names.items()}


def find_ir(location: str) -> Path:
    """The .xml of an OpenVINO folder (Ultralytics' export layout) or an .xml path itself."""
    path = Path(location)
    if path.is_file() and path.suffix == ".xml":
        return path
    if path.is_dir():
        xmls = sorted(path.glob("*.xml"))
        if len(xmls) == 1:
            return xmls[0]
    raise RuntimeUnavailableError(f"not an OpenVINO IR (a folder with one .xml, or the .xml): {location}")


def nms(xyxy: np.ndarray, scores: np.ndarray, iou_threshold: float) -> np.ndarray:
    """Indices kept by greedy NMS, highest score first (torchvision.ops.nms's rule: drop IoU > threshold)."""
    if not len(xyxy):
        return np.empty(0, np.int64)
    xywh = np.concatenate([xyxy[:, :2], xyxy[:, 2:] - xyxy[:, :2]], axis=1).astype(np.float64)
    # OpenCV's loop is C++; with score threshold 0 it keeps the same boxes in the same order as torchvision.
    return np.asarray(cv2.dnn.NMSBoxes(xywh, scores.astype(np.float32), 0.0, iou_threshold), np.int64).reshape(-1)


class OpenVinoDetector:
    """`detect(image)` and `detect_many(images)` -> Detections, from an OpenVINO IR compiled on the CPU."""

    def __init__(self, config: DetectorConfig, runtime: RuntimeConfig | None = None) -> None:
        self.config = config
        self.runtime = runtime or RuntimeConfig()
        if config.device != "cpu":
            raise RuntimeUnavailableError(f"the OpenVINO fast path runs on the CPU, not {config.device}")
        self._xml = find_ir(config.model)
        self.class_names = read_class_names(self._xml.parent)
        self._core = ov.Core()
        shape = self._core.read_model(self._xml).input(0).get_partial_shape()
        if shape.is_dynamic or tuple(shape.to_shape()) != (1, 3, config.imgsz, config.imgsz):
            raise RuntimeUnavailableError(f"{self._xml}: input {shape}, expected [1,3,{config.imgsz},{config.imgsz}]")
        self._engines: dict[tuple[int, int], _Engine] = {}
        size = max(self.class_names) + 1
        self._kind_of_class = np.array(
            [config.class_map.get(self.class_names.get(i, ""), "") for i in range(size)], "<U16"
        )
        self._floor_of_class = class_floors(self.class_names, config.class_conf)
        self.mapped_class_names = sorted(set(self.class_names.values()) & config.class_map.keys())
        if not self.mapped_class_names:
            raise RuntimeUnavailableError(f"model {self._xml} has none of the classes in detector.class_map")
        self.times = StageTimes()
        self.requests = len(self._engine((config.imgsz, config.imgsz)).requests)  # images in flight at once

    def _engine(self, shape: tuple[int, int]) -> _Engine:
        """The compiled model for one input shape, built on first use (one per frame aspect ratio in rect mode)."""
        if shape in self._engines:
            return self._engines[shape]
        model = self._core.read_model(self._xml)
        if shape != (self.config.imgsz, self.config.imgsz):
            model = reshape_yolo(model, batch=1, height=shape[0], width=shape[1])
        # Colour order, layout and scaling run inside the compiled graph: the input is the letterboxed uint8 BGR image.
        ppp = PrePostProcessor(model)
        ppp.input().tensor().set_element_type(ov.Type.u8).set_layout(ov.Layout("NHWC")).set_color_format(ColorFormat.BGR)
        ppp.input().model().set_layout(ov.Layout("NCHW"))
        ppp.input().preprocess().convert_element_type(ov.Type.f32).convert_color(ColorFormat.RGB).scale(255.0)
        properties: dict[str, str] = {"PERFORMANCE_HINT": self.runtime.performance_hint}
        if self.runtime.num_streams:
            properties["NUM_STREAMS"] = str(self.runtime.num_streams)
        if self.runtime.num_threads:
            properties["INFERENCE_NUM_THREADS"] = str(self.runtime.num_threads)
        compiled = self._core.compile_model(ppp.build(), "CPU", properties)
        count = self.runtime.infer_requests or int(compiled.get_property("OPTIMAL_NUMBER_OF_INFER_REQUESTS"))
        requests = [compiled.create_infer_request() for _ in range(count)]
        canvases = [request.get_input_tensor(0).data for request in requests]  # views of the requests' own memory
        for canvas in canvases:
            canvas[...] = PAD_VALUE
        self._engines[shape] = _Engine(requests=requests, canvases=canvases, geometry=[None] * count,
                                       free=list(range(count - 1, -1, -1)))
        return self._engines[shape]

    def detect(self, image: np.ndarray, input_shape: InputShape | None = None) -> Detections:
        """Boxes of the mapped classes in one BGR image."""
        return self.detect_many([image], [input_shape])[0]

    def detect_many(
        self, images: Sequence[np.ndarray], input_shapes: Sequence[InputShape | None] | None = None
    ) -> list[Detections]:
        """Each image's Detections; up to `requests` images run side by side on the runtime's streams."""
        return list(self.detect_iter(images, input_shapes))

    def detect_iter(
        self, images: Sequence[np.ndarray], input_shapes: Sequence[InputShape | None] | None = None
    ) -> Iterator[Detections]:
        """Each image's Detections in order, as soon as it is ready: while the caller works on one, the next
        images are already running. `input_shapes`: per image, square or rect (None: `runtime.input_shape`)."""
        waiting = deque(range(len(images)))
        in_flight: deque[tuple[_Engine, int, Letterbox, tuple[int, int]]] = deque()  # in the images' order

        def start_waiting() -> None:
            """Start the waiting images, in order, while their input shape has a free request."""
            while waiting:
                started = time.perf_counter()
                image = images[waiting[0]]
                shape = (input_shapes[waiting[0]] if input_shapes is not None else None) or self.runtime.input_shape
                box = Letterbox.fit(image.shape[0], image.shape[1], self.config.imgsz,
                                    stride=STRIDE if shape == "rect" else None)
                engine = self._engine(box.shape)
                if not engine.free:
                    return
                waiting.popleft()
                slot = engine.free.pop()
                self._letterbox(engine, slot, image, box)
                engine.requests[slot].start_async()
                in_flight.append((engine, slot, box, image.shape[:2]))
                self.times.images_by_shape[box.shape] += 1
                self.times.preprocess_s += time.perf_counter() - started

        try:
            start_waiting()
            while in_flight:
                engine, slot, box, shape = in_flight.popleft()
                detections = self._collect(engine, slot, box, shape)
                engine.free.append(slot)
                start_waiting()  # the freed request takes the next image before the caller gets this one
                self.times.frames += 1
                yield detections
        finally:  # the caller stopped early: the requests still running are let finish and freed
            for engine, slot, _, _ in in_flight:
                engine.requests[slot].wait()
                engine.free.append(slot)

    def infer_only(self, images: int, shape: tuple[int, int]) -> float:
        """Seconds per image of the runtime alone on one input shape's canvases (h, w), requests side by side:
        the floor."""
        requests = self._engine(shape).requests
        started = time.perf_counter()
        for index in range(images):
            request = requests[index % len(requests)]
            if index >= len(requests):
                request.wait()
            request.start_async()
        for request in requests:
            request.wait()
        return (time.perf_counter() - started) / max(images, 1)

    def _letterbox(self, engine: _Engine, slot: int, image: np.ndarray, box: Letterbox) -> None:
        canvas = engine.canvases[slot][0]
        placement = (box.size, box.pad)  # where the picture lands; the grey around it stays from the last image
        if placement != engine.geometry[slot]:
            canvas[...] = PAD_VALUE
            engine.geometry[slot] = placement
        (new_w, new_h), (left, top) = box.size, box.pad
        target = canvas[top : top + new_h, left : left + new_w]
        height, width = image.shape[:2]
        if (width, height) == box.size:
            target[...] = image
        elif target.flags.c_contiguous:  # full-width rows (a wide frame): resized straight into the request's input
            cv2.resize(image, box.size, dst=target, interpolation=cv2.INTER_LINEAR)
        else:
            target[...] = cv2.resize(image, box.size, interpolation=cv2.INTER_LINEAR)

    def _collect(self, engine: _Engine, slot: int, box: Letterbox, shape: tuple[int, int]) -> Detections:
        started = time.perf_counter()
        request = engine.requests[slot]
        request.wait()
        waited = time.perf_counter()
        self.times.inference_s += waited - started
        detections = self._decode(request.get_output_tensor(0).data[0], box, shape)
        self.times.postprocess_s += time.perf_counter() - waited
        return detections

    def _decode(self, output: np.ndarray, box: Letterbox, shape: tuple[int, int]) -> Detections:
        """(4 + classes, anchors) raw output -> Detections, as Ultralytics' non_max_suppression and scale_boxes."""
        scores = output[4:]
        best = scores.max(axis=0)
        candidates = np.flatnonzero(best > self.config.conf)
        if len(candidates) > self.runtime.max_nms:
            candidates = candidates[np.argsort(-best[candidates], kind="stable")[: self.runtime.max_nms]]
        class_id = scores[:, candidates].argmax(axis=0).astype(np.int64)
        confidence = best[candidates].astype(np.float32)
        cx, cy, w, h = output[:4, candidates]
        xyxy = np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], axis=1).astype(np.float32)
        offset = 0.0 if self.config.agnostic_nms else class_id[:, None].astype(np.float32) * MAX_WH
        keep = nms(xyxy + offset, confidence, self.config.iou)[: self.runtime.max_det]
        xyxy, confidence, class_id = xyxy[keep], confidence[keep], class_id[keep]
        # Back to image pixels: Ultralytics' scale_boxes, then clip to the frame.
        xyxy -= np.array([box.pad[0], box.pad[1], box.pad[0], box.pad[1]], np.float32)
        xyxy /= np.array([box.gain[0], box.gain[1], box.gain[0], box.gain[1]], np.float32)
        height, width = shape
        np.clip(xyxy, 0, np.array([width, height, width, height], np.float32), out=xyxy)
        kind = self._kind_of_class[class_id] if len(class_id) else np.empty(0, "<U16")
        mapped = (kind != "") & (confidence >= self._floor_of_class[class_id])
        return Detections(
            xyxy=xyxy[mapped],
            confidence=confidence[mapped],
            class_id=class_id[mapped],
            kind=kind[mapped],
            track_id=np.full(int(mapped.sum()), UNTRACKED, np.int64),
        )
