"""After `redis-cli shutdown nosave` and a start, the detections stream and its consumer group are gone: the web
processes' consumer must take in what workers send next. Deleting the stream's key is what the restart does to it."""
import time

import pytest

from dispatch.streams import RedisDetectionStream


@pytest.fixture
def stream(redis_url: str):
    name = f"gridpatrol:test-stream-restart:{time.time_ns()}"
    reader = RedisDetectionStream(redis_url, stream=name)
    yield reader
    reader.client.delete(name)
    reader.close()


def test_reports_sent_after_a_restart_are_taken_in(stream: RedisDetectionStream) -> None:
    stream.client.delete(stream.stream)  # the restart: stream and group gone
    stream.client.xadd(stream.stream, {"json": '{"event_id": "cam:1"}'})  # a worker's next report recreates the stream
    assert [message for _, message in stream.read(count=10, block_ms=100)] == [{"event_id": "cam:1"}]
    assert stream.backlog() == {"waiting": 0, "pending": 1}
