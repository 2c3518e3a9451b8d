"""Detection reports from vision workers: intake by event id, photos kept, the Redis stream's delivery rules."""
import base64
import datetime as dt

import cv2
import numpy as np
import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

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


def test_a_report_without_location_is_a_422_naming_it(platform, app, token) -> None:
    camera = {"Authorization": f"Bearer {token('camera')}"}
    body = {key: value for key, value in report().items() if key != "location"}
    response = app.test_client().post("/api/detections", json=body, headers=camera)
    assert response.status_code == 422, response.data[:300]
    assert "location" in response.json["errors"]["json"]
    unlocated = app.test_client().post("/api/detections", json={**report(), "location": None}, headers=camera)
    assert unlocated.status_code == 200 and unlocated.json["outcome"] == "unlocated"


def test_poison_reports_are_parked_with_their_reason_and_counted(platform, app, login, stream_name) -> None:
    stream = RedisDetectionStream(REDIS_TEST_URL, stream=stream_name, claim_idle_ms=0)
    platform.detections = stream
    stream.add({key: value for key, value in report().items() if key != "location"})  # invalid
    stream.add(["not", "a", "report"])  # crashes any handler
    stream.add(report())  # good: still taken in
    consumer = consumer_for(platform, stream)
    while consumer.poll():
        pass
    assert stream.backlog() == {"waiting": 0, "pending": 0}  # nothing retried forever
    assert stored(platform) == (1, 1, 1)
    parked = stream.dead_letters(limit=10)
    assert [sorted(item) for item in parked] == [["id", "message", "parked_at", "reason"]] * 2
    assert "location" in parked[1]["reason"] and "list" in parked[0]["reason"]  # newest first
    assert parked[0]["message"] == ["not", "a", "report"]
    admin = login("admin")
    metrics = admin.get("/metrics").get_data(as_text=True)
    assert "gridpatrol_detection_dead_letters 2.0" in metrics
    listed = admin.get("/api/detections/dead-letters")
    assert listed.status_code == 200 and [item["reason"] for item in listed.json] == [p["reason"] for p in parked]
    assert jpeg_base64(40)[:40] not in listed.get_data(as_text=True)  # photos left out
    assert listed.json[1]["message"]["photos"][0]["name"] == "first"
    assert login("dispatcher").get("/api/detections/dead-letters").status_code == 403
    stream.client.delete(stream.dead_stream)
    stream.close()


def test_a_report_that_fails_every_delivery_is_parked_after_the_limit(platform, stream_name) -> None:
    stream = RedisDetectionStream(REDIS_TEST_URL, stream=stream_name, claim_idle_ms=0)
    stream.add(report(event_id="x" * 64, observed_at="2026-11-20T09:30:00+08:00"))
    consumer = consumer_for(platform, stream)
    consumer.max_deliveries = 3

    def database_away(*_args, **_kwargs):
        raise OperationalError("SELECT 1", {}, Exception("server closed the connection"))

    consumer.sessions = database_away
    for _ in range(2):
        with pytest.raises(OperationalError):
            consumer.poll()
    assert stream.backlog()["pending"] == 1 and stream.dead_letters(limit=10) == []
    consumer.poll()  # third delivery: parked instead of retried again
    assert stream.backlog()["pending"] == 0
    [parked] = stream.dead_letters(limit=10)
    assert "3 deliveries" in parked["reason"] and "server closed" in parked["reason"]
    stream.client.delete(stream.dead_stream)
    stream.close()
