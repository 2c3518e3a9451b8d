"""Detection reports from vision workers: intake by event id, photos kept, the Redis stream's delivery rules."""
import base64
import datetime as dt

import cv2
import numpy as np
from sqlalchemy import func, select

from dispatch.case.models import Case, Evidence
from dispatch.consumer import DetectionConsumer
from dispatch.streams import InProcessDetectionQueue, RedisDetectionStream
from dispatch.ticket.models import Ticket
from grid.geodesy import offset_m
from tests.factories import DEMO_CENTRE_WGS84, ticket_payload
from tests.requirements import REDIS_TEST_URL

LON, LAT = DEMO_CENTRE_WGS84


def jpeg_base64(shade: int) -> str:
    image = np.full((48, 64, 3), shade, dtype=np.uint8)
    return base64.b64encode(cv2.imencode(".jpg", image)[1].tobytes()).decode()


def report(phase: str = "start", *, event_id: str = "cam-7:illegal_parking:3:6000", photos=(("first", 40),),
           lon: float = LON, lat: float = LAT, **extra) -> dict:
    return {
        "event_id": event_id, "source": "camera", "source_id": "cam-7", "phase": phase, "rule": "illegal_parking",
        "category": "0505", "observed_at": dt.datetime.now(dt.timezone.utc).isoformat(), "dwell_s": 5.2,
        "location": {"lon": lon, "lat": lat, "crs": "wgs84"},
        "photos": [{"name": name, "jpeg_base64": jpeg_base64(shade)} for name, shade in photos],
        "event": {"event_id": event_id, "zone_id": "kerb"}, **extra,
    }


def consumer_for(platform, queue) -> DetectionConsumer:
    return DetectionConsumer(sessions=platform.sessions, ctx=platform.ctx, bus=platform.bus, store=platform.evidence,
                             queue=queue, block_ms=50)


def stored(platform) -> tuple[int, int, int]:
    with platform.sessions() as session:
        return tuple(session.scalar(select(func.count()).select_from(m)) for m in (Ticket, Case, Evidence))


def test_a_stay_becomes_one_case_with_both_photos(platform, published) -> None:
    queue = InProcessDetectionQueue()
    consumer = consumer_for(platform, queue)
    queue.add(report("start"))
    queue.add(report("start"))  # delivered twice: still one ticket
    queue.add(report("update", photos=(("first", 40), ("second", 200))))
    queue.add(report("end", photos=()))
    while consumer.poll():
        pass
    assert stored(platform) == (1, 1, 2)
    assert consumer.refused == []
    with platform.sessions() as session:
        case = session.scalars(select(Case)).one()
        assert case.cell_code == platform.ctx.grid.locate_one(LON, LAT) and case.category == "0505"
        photos = session.scalars(select(Evidence).order_by(Evidence.id)).all()
        assert [p.caption for p in photos] == ["photo first", "photo second"]
        assert all(p.case_id == case.id and platform.evidence.path_of(p.uri).stat().st_size > 0 for p in photos)
        assert session.get(Ticket, photos[0].ticket_id).raw == {"event_id": "cam-7:illegal_parking:3:6000",
                                                                 "zone_id": "kerb"}
    assert [m["kind"] for m in published] == ["created"]


def test_camera_report_merges_with_a_nearby_hotline_case(platform, client) -> None:
    hotline = client.post("/api/tickets", json=ticket_payload(lon=LON, lat=LAT, category="0505")).json
    queue = InProcessDetectionQueue()
    queue.add(report(lon=offset_m(LON, LAT, 15, 0)[0]))
    consumer_for(platform, queue).poll()
    with platform.sessions() as session:
        camera_ticket = session.scalars(select(Ticket).where(Ticket.source == "camera")).one()
        assert camera_ticket.case_id == hotline["case"]["id"]


def test_malformed_reports_are_refused_and_acknowledged(platform) -> None:
    queue = InProcessDetectionQueue()
    consumer = consumer_for(platform, queue)
    queue.add(report(category="9999"))
    queue.add({**report(), "source": "hotline_12345"})
    queue.add({**report(), "photos": [{"name": "x", "jpeg_base64": base64.b64encode(b"GIF89a....").decode()}]})
    assert consumer.poll() == 3
    assert [reason for _, reason in consumer.refused][0].startswith("category")
    assert len(consumer.refused) == 3 and stored(platform) == (0, 0, 0)


def test_detections_over_http_need_a_sensor_token(platform, app, token) -> None:
    http = app.test_client()
    camera = {"Authorization": f"Bearer {token('camera')}"}
    hotline = {"Authorization": f"Bearer {token('hotline_12345')}"}
    assert http.post("/api/detections", json=report(), headers=hotline).status_code == 403
    first = http.post("/api/detections", json=report(), headers=camera)
    assert first.status_code == 200 and first.json["outcome"] == "created"
    again = http.post("/api/detections", json=report("update", photos=(("second", 99),)), headers=camera)
    assert again.json["outcome"] == "updated"
    assert stored(platform) == (1, 1, 2)



def test_redis_stream_redelivers_what_a_dead_consumer_never_acknowledged(platform, stream_name) -> None:
    producer = RedisDetectionStream(REDIS_TEST_URL, stream=stream_name)
    producer.add(report())
    assert producer.backlog() == {"waiting": 1, "pending": 0}
    dead = RedisDetectionStream(REDIS_TEST_URL, stream=stream_name)
    taken = dead.read(count=10, block_ms=100)
    assert len(taken) == 1  # read, then the reader "dies" before acknowledging
    assert producer.backlog() == {"waiting": 0, "pending": 1}
    alive = RedisDetectionStream(REDIS_TEST_URL, stream=stream_name, claim_idle_ms=0)
    alive.consumer = "survivor"
    consumer = consumer_for(platform, alive)
    assert consumer.poll() == 1
    assert consumer.poll() == 0  # acknowledged: not delivered again
    assert stored(platform) == (1, 1, 1)
    assert producer.client.xpending(stream_name, "dispatch")["pending"] == 0
    for stream in (producer, dead, alive):
        stream.close()


def test_stream_makes_its_group_again_when_redis_lost_it(platform, stream_name) -> None:
    """A Redis that keeps nothing restarts empty: the consumer makes the stream and group again and goes on."""
    stream = RedisDetectionStream(REDIS_TEST_URL, stream=stream_name)
    stream.client.delete(stream_name)  # what an empty restart leaves
    assert stream.read(count=1, block_ms=10) == []
    assert stream.backlog() == {"waiting": 0, "pending": 0}
    stream.add(report())
    assert consumer_for(platform, stream).poll() == 1 and stored(platform)[0] == 1
    stream.close()
