"""Frame sources on real footage, drone stills, and a live MJPEG stream that drops and comes back."""
import math
import socket
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import cv2
import numpy as np
import pytest

from tests.requirements import shared_path
from vision.sources import (
    Frame,
    FrameSource,
    ImageFolderSource,
    SingleImageSource,
    SourceError,
    StreamSource,
    VideoFileSource,
    open_source,
    redact_url,
)

TRAFFIC_HD = "data/media/degirum_pysdk_examples/TrafficHD_short.mp4"
CCTV_STREET = "data/media/cctv_street_no_parking_zone.mp4"
DRONE_STILLS = "data/media/drone_nadir_street_cn"
CCTV_FPS = 29.657423  # the container says so; frames are 33.718 ms apart


def read_all(source: FrameSource) -> list[Frame]:
    with source:
        return list(iter(source.read, None))


def wait_until(condition: Callable[[], bool], *, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout_s} s waiting for {what}")
        time.sleep(0.02)


@pytest.mark.footage
@pytest.mark.parametrize(
    ("relative", "analysis_fps", "expected_indices"),
    [
        (TRAFFIC_HD, None, list(range(20))),
        (TRAFFIC_HD, 2.0, [0, 15]),
        (TRAFFIC_HD, 10.0, [0, 3, 6, 9, 12, 15, 18]),
        # 29.66 fps: slot k at k/2 s falls on frame ceil(k * 14.83), never drifting to a multiple of 15.
        (CCTV_STREET, 2.0, [math.ceil((k / 2 - 0.001) * CCTV_FPS) for k in range(41)]),
    ],
)
def test_video_file_analyses_the_frames_due_by_media_time(
    relative: str, analysis_fps: float | None, expected_indices: list[int]
) -> None:
    path = shared_path(relative)
    frames = read_all(VideoFileSource(path, source_id="cam-1", analysis_fps=analysis_fps))

    assert [frame.index for frame in frames] == expected_indices
    timestamps = np.array([frame.timestamp_s for frame in frames])
    assert np.all(np.diff(timestamps) > 0)
    fps = 30.0 if relative == TRAFFIC_HD else CCTV_FPS
    np.testing.assert_allclose(timestamps, np.array(expected_indices) / fps, atol=0.002)
    if analysis_fps is not None:
        # One frame per slot: each lies within one source frame after its slot's start.
        slots = np.arange(len(frames)) / analysis_fps
        assert np.all((timestamps >= slots - 0.001) & (timestamps < slots + 1 / fps))
    assert {frame.source_id for frame in frames} == {"cam-1"}


@pytest.mark.footage
def test_video_file_frames_are_bgr_full_size_and_health_counts_them() -> None:
    source = VideoFileSource(shared_path(TRAFFIC_HD), source_id="cam-1", analysis_fps=10)
    assert source.health.connected
    frames = read_all(source)

    assert frames[0].image.shape == (1080, 1920, 3) and frames[0].image.dtype == np.uint8
    health = source.health
    assert (health.connected, health.frames_read, health.last_error) == (False, 7, None)
    assert health.fps > 0 and health.last_frame_at is not None and health.last_frame_at <= time.time()
    assert source.read() is None  # stays ended


@pytest.mark.footage
def test_skipped_frames_match_a_full_decode() -> None:
    path = shared_path(TRAFFIC_HD)
    every = read_all(VideoFileSource(path, source_id="cam-1"))
    sampled = read_all(VideoFileSource(path, source_id="cam-1", analysis_fps=2))

    for frame in sampled:
        np.testing.assert_array_equal(frame.image, every[frame.index].image)


@pytest.mark.footage
@pytest.mark.parametrize("relative", [CCTV_STREET, "data/media/degirum_pysdk_examples/Traffic.mp4"])
def test_frames_nothing_refers_to_are_not_decoded_and_the_rest_equals_opencvs_decode(relative: str) -> None:
    """PyAV drops the unanalysed frames no other frame refers to; indices, times and pixels equal OpenCV's."""
    path = str(shared_path(relative))
    capture = cv2.VideoCapture(path, cv2.CAP_FFMPEG)
    opencv = []
    while True:
        ok, image = capture.read()
        if not ok:
            break
        opencv.append((capture.get(cv2.CAP_PROP_POS_MSEC) / 1000, image))
    capture.release()
    source = VideoFileSource(path, source_id="cam", analysis_fps=2)
    sampled = read_all(source)
    assert len(sampled) >= 20
    for frame in sampled:
        timestamp_s, image = opencv[frame.index]
        assert frame.timestamp_s == pytest.approx(timestamp_s, abs=1e-6)
        np.testing.assert_array_equal(frame.image, image)
    assert len(sampled) < source.frames_decoded < 0.8 * len(opencv)  # B-frames between analysed ones: dropped


@pytest.mark.footage
def test_folder_source_reads_stills_in_name_order() -> None:
    folder = shared_path(DRONE_STILLS)
    frames = read_all(ImageFolderSource(folder, source_id="drone-1", fps_assumed=15))

    names = sorted(path.name for path in folder.glob("*.jpg"))
    assert len(frames) == len(names) == 60
    assert [frame.index for frame in frames] == list(range(60))
    np.testing.assert_allclose([frame.timestamp_s for frame in frames], np.arange(60) / 15)
    np.testing.assert_array_equal(frames[7].image, cv2.imread(str(folder / names[7])))
    assert frames[0].image.shape == (540, 960, 3)


@pytest.mark.footage
def test_folder_source_takes_explicit_timestamps() -> None:
    folder = shared_path(DRONE_STILLS)
    timestamps = [0.5 * i for i in range(60)]
    frames = read_all(ImageFolderSource(folder, source_id="drone-1", timestamps=timestamps))
    assert [frame.timestamp_s for frame in frames] == timestamps
    with pytest.raises(ValueError, match="3 timestamps for 60 images"):
        ImageFolderSource(folder, source_id="drone-1", timestamps=[0.0, 1.0, 2.0])


def test_single_image_from_bytes_and_path(tmp_path: Path) -> None:
    image = np.zeros((20, 30, 3), np.uint8)
    image[:, :, 2] = 255  # red in BGR
    encoded = cv2.imencode(".png", image)[1].tobytes()
    (tmp_path / "red.png").write_bytes(encoded)

    for path_or_bytes in (encoded, tmp_path / "red.png"):
        source = SingleImageSource(path_or_bytes, source_id="upload")
        frames = read_all(source)
        assert len(frames) == 1
        np.testing.assert_array_equal(frames[0].image, image)
        assert (frames[0].index, frames[0].timestamp_s, frames[0].source_id) == (0, 0.0, "upload")


@pytest.mark.parametrize(
    ("kind", "name", "error", "message"),
    [
        (VideoFileSource, "absent.mp4", FileNotFoundError, "absent.mp4: no such video file"),
        (VideoFileSource, "notes.txt", SourceError, "notes.txt: not a video file FFmpeg can read"),
        (ImageFolderSource, "absent", FileNotFoundError, "absent: no such folder"),
        (ImageFolderSource, "", SourceError, ": no images .* in the folder"),
        (SingleImageSource, "absent.jpg", FileNotFoundError, "image file not found: .*absent.jpg"),
        (SingleImageSource, "notes.txt", SourceError, "cannot decode image .*notes.txt"),
    ],
)
def test_missing_or_unreadable_input_names_the_path(
    tmp_path: Path, kind: type[FrameSource], name: str, error: type[Exception], message: str
) -> None:
    (tmp_path / "notes.txt").write_text("not a picture")
    with pytest.raises(error, match=message):
        kind(tmp_path / name, source_id="x")  # type: ignore[call-arg]


def test_undecodable_image_bytes_are_refused() -> None:
    with pytest.raises(SourceError, match=r"cannot decode image bytes \(12 bytes\)"):
        SingleImageSource(b"not an image", source_id="x")


def test_unreadable_still_in_a_folder_names_the_file(tmp_path: Path) -> None:
    cv2.imwrite(str(tmp_path / "00000.jpg"), np.zeros((8, 8, 3), np.uint8))
    (tmp_path / "00001.jpg").write_bytes(b"truncated")
    with ImageFolderSource(tmp_path, source_id="drone-1") as source:
        assert source.read() is not None
        with pytest.raises(SourceError, match="00001.jpg: not an image OpenCV can read"):
            source.read()


@pytest.mark.footage
def test_open_source_builds_each_kind(tmp_path: Path) -> None:
    cv2.imwrite(str(tmp_path / "still.png"), np.zeros((8, 8, 3), np.uint8))
    specs = {
        VideoFileSource: {"id": "a", "kind": "file", "uri": str(shared_path(TRAFFIC_HD)), "analysis_fps": 2},
        ImageFolderSource: {"id": "b", "kind": "folder", "uri": str(shared_path(DRONE_STILLS))},
        SingleImageSource: {"id": "c", "kind": "image", "uri": str(tmp_path / "still.png")},
        StreamSource: {"id": "d", "kind": "stream", "uri": "rtsp://127.0.0.1:9/live", "analysis_fps": 2},
    }
    for kind, spec in specs.items():
        with open_source(spec) as source:
            assert type(source) is kind and source.source_id == spec["id"]
    assert len(read_all(open_source(specs[VideoFileSource]))) == 2
    with pytest.raises(ValueError, match="unknown kind 'webcam'"):
        open_source({"id": "e", "kind": "webcam", "uri": "0"})
    with pytest.raises(ValueError, match="lacks 'uri'"):
        open_source({"id": "e", "kind": "file"})


def test_redact_url_hides_the_password() -> None:
    assert redact_url("rtsp://admin:s3cret@10.0.0.7:554/stream1") == "rtsp://admin:***@10.0.0.7:554/stream1"
    assert redact_url("http://127.0.0.1:8080/video") == "http://127.0.0.1:8080/video"


# --- live stream -----------------------------------------------------------------------------

JPEG = cv2.imencode(".jpg", np.full((48, 64, 3), 128, np.uint8))[1].tobytes()


class MjpegHandler(BaseHTTPRequestHandler):
    """multipart/x-mixed-replace JPEGs at 25 fps until the server stops."""

    server: "MjpegServer"

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "multipart/x-mixed-replace; boundary=frame")
        self.end_headers()
        part = b"--frame\r\nContent-Type: image/jpeg\r\nContent-Length: %d\r\n\r\n%b\r\n" % (len(JPEG), JPEG)
        try:
            while not self.server.stopping.wait(0.04):
                self.wfile.write(part)
        except OSError:
            pass  # the client went away

    def log_message(self, format: str, *args: object) -> None:
        pass


class MjpegServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, port: int) -> None:
        super().__init__(("127.0.0.1", port), MjpegHandler)
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        """Ends every open response too, as a camera losing power would."""
        self.stopping.set()
        self.shutdown()
        self.server_close()
        self.thread.join(timeout=5)


class RefusingListener:
    """Accepts on the port and hangs up at once, recording when each connection attempt came."""

    def __init__(self, port: int) -> None:
        self.socket = socket.create_server(("127.0.0.1", port), reuse_port=False)
        self.socket.settimeout(0.05)
        self.attempts: list[float] = []
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self.stopping.is_set():
            try:
                connection, _ = self.socket.accept()
            except TimeoutError:
                continue
            self.attempts.append(time.monotonic())
            connection.close()

    def stop(self) -> None:
        self.stopping.set()
        self.thread.join(timeout=5)
        self.socket.close()


@pytest.fixture
def mjpeg_server() -> Iterator[MjpegServer]:
    server = MjpegServer(0)
    yield server
    if not server.stopping.is_set():
        server.stop()


class Reader:
    """Calls read() in its own thread, as a pipeline worker would, keeping every frame."""

    def __init__(self, source: StreamSource) -> None:
        self.source = source
        self.frames: list[Frame] = []
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            while (frame := self.source.read()) is not None:
                self.frames.append(frame)
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            self.error = exc

    def stop(self) -> None:
        self.source.close()
        self.thread.join(timeout=10)
        assert not self.thread.is_alive(), "read() did not return after close()"


def test_stream_reconnects_with_backoff_after_the_server_drops(mjpeg_server: MjpegServer) -> None:
    port = mjpeg_server.server_address[1]
    source = StreamSource(
        f"http://127.0.0.1:{port}/video",
        source_id="cam-live",
        backoff_initial_s=0.1,
        backoff_max_s=0.8,
        open_timeout_s=3,
        read_timeout_s=3,
    )
    reader = Reader(source)
    try:
        wait_until(lambda: len(reader.frames) >= 10, timeout_s=15, what="frames from the live stream")
        health = source.health
        assert health.connected and health.reconnects == 0 and health.fps > 0

        mjpeg_server.stop()
        wait_until(lambda: not source.health.connected, timeout_s=10, what="the drop to show in health")
        assert source.health.last_error is not None and str(port) in source.health.last_error
        assert source.health.fps == 0.0

        # While the camera is down, every connection attempt is refused; attempts space out.
        refusing = RefusingListener(port)
        try:
            wait_until(lambda: len(refusing.attempts) >= 4, timeout_s=10, what="four reconnection attempts")
        finally:
            refusing.stop()
        gaps = np.diff(refusing.attempts)
        assert np.all(gaps > 0.09), gaps  # never a busy loop
        assert gaps[-1] > 2 * gaps[0], gaps  # doubling: 0.2, 0.4, 0.8 s ...
        assert 0.75 < gaps[-1] < 2.0, gaps  # ... capped at backoff_max_s
        assert reader.thread.is_alive() and reader.error is None
        assert not source.health.connected
        assert source.health.last_error.startswith("cannot open stream")

        frames_before = len(reader.frames)
        restored = MjpegServer(port)
        try:
            wait_until(lambda: len(reader.frames) >= frames_before + 10, timeout_s=15, what="frames after the restore")
            health = source.health
            assert health.connected and health.reconnects >= 1
        finally:
            restored.stop()
    finally:
        reader.stop()

    assert reader.error is None
    indices = [frame.index for frame in reader.frames]
    timestamps = [frame.timestamp_s for frame in reader.frames]
    assert indices == sorted(set(indices)) and timestamps == sorted(timestamps)
    assert reader.frames[-1].image.shape == (48, 64, 3)


def test_stream_that_never_opens_keeps_retrying_until_closed() -> None:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = probe.getsockname()[1]  # closed again: nothing listens there now
    source = StreamSource(
        f"http://user:pw@127.0.0.1:{port}/", source_id="cam-off", backoff_initial_s=0.05, backoff_max_s=0.2
    )
    reader = Reader(source)
    wait_until(lambda: source.health.last_error is not None, timeout_s=10, what="a failed open")
    time.sleep(0.3)
    assert reader.thread.is_alive() and reader.frames == [] and reader.error is None
    assert not source.health.connected
    assert source.health.last_error == f"cannot open stream http://user:***@127.0.0.1:{port}/"
    started = time.monotonic()
    reader.stop()
    assert time.monotonic() - started < 2
