"""A private Redis server (the test's own) restarts without saving: the detections stream and its consumer group are
gone, and the web processes' consumer must take in what workers send next."""
import pytest

from dispatch.streams import RedisDetectionStream
from tests.scale.servers import PrivateRedis


@pytest.fixture
def server():
    with PrivateRedis.running() as started:
        yield started


def test_reports_sent_after_a_restart_are_taken_in(server: PrivateRedis) -> None:
    reader = RedisDetectionStream(server.url, stream="gridpatrol:detections")
    try:
        reader.client.xadd(reader.stream, {"json": '{"event_id": "cam:0"}'})
        assert [message for _, message in reader.read(count=10, block_ms=100)] == [{"event_id": "cam:0"}]
        server.restart(down_s=0.5)
        assert reader.client.exists(reader.stream) == 0  # the restart: stream and group gone
        reader.client.xadd(reader.stream, {"json": '{"event_id": "cam:1"}'})  # a worker's next report recreates it
        assert [message for _, message in reader.read(count=10, block_ms=100)] == [{"event_id": "cam:1"}]
        assert reader.backlog() == {"waiting": 0, "pending": 1}
    finally:
        reader.close()
