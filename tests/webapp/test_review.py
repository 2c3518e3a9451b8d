"""Review of camera and drone cases: confirm or reject before a squad sees them, the stats, the export."""
import json

import pytest
from sqlalchemy import select

from dispatch.case.models import Case, CaseEvent, Evidence
from dispatch.review import export_reviewed
from dispatch.squad.models import Squad
from dispatch.ticket.models import Ticket
from grid.geodesy import offset_m
from tests.dispatch.test_detections import jpeg_base64, report
from tests.factories import DEMO_CENTRE_WGS84, ticket_payload

LON, LAT = DEMO_CENTRE_WGS84


@pytest.fixture
def camera(app, token):
    """camera(event_id, east_m=0, phase="start", photos=None): POST one camera report; the case a start made."""
    http, headers = app.test_client(), {"Authorization": f"Bearer {token('camera')}"}

    def send(event_id: str, east_m: float = 0.0, phase: str = "start", photos: list[dict] | None = None) -> dict:
        lon, lat = offset_m(LON, LAT, east_m, 0)
        body = report(phase, event_id=event_id, lon=lon, lat=lat)
        if photos is not None:
            body["photos"] = photos
        body["event"] = {"event_id": event_id, "source_id": "cam-7", "rule": "illegal_parking", "zone_id": "kerb",
                         "dwell_s": 5.2, "confidence": 0.81}
        response = http.post("/api/detections", json=body, headers=headers)
        assert response.status_code == 200, response.json
        return response.json["case"]

    return send


def review(client, case_id: int, verdict: str, **body):
    return client.post(f"/api/cases/{case_id}/review", json={"verdict": verdict, **body})


def auto_register(platform, **flags) -> None:
    platform.ctx.config = platform.ctx.config.model_copy(update={"auto_register": True, **flags})


def test_camera_case_waits_for_review_even_with_auto_register(platform, client, camera) -> None:
    auto_register(platform, auto_dispatch=True)
    case = camera("cam-7:illegal_parking:1:1000")
    assert case["status"] == "reported" and case["review_status"] == "pending"
    hotline = client.post("/api/tickets", json=ticket_payload(lon=LON, lat=LAT + 0.01, category="0505")).json
    assert hotline["case"]["status"] == "dispatched" and hotline["case"]["review_status"] is None
    queue = client.get("/api/cases?review=pending").json
    assert [c["id"] for c in queue["items"]] == [case["id"]]
    detail = client.get(f"/api/cases/{case['id']}").json
    assert detail["review"]["zone_id"] == "kerb" and detail["review"]["dwell_s"] == 5.2
    assert detail["review"]["source_id"] == "cam-7" and len(detail["review"]["photos"]) == 1
    assert detail["timeline"][0]["data"]["review"] == "pending"


def test_confirm_registers_and_auto_dispatches(platform, client, camera) -> None:
    auto_register(platform, auto_dispatch=True)
    case = camera("cam-7:illegal_parking:1:1000")
    confirmed = review(client, case["id"], "confirm", note="车辆确在禁停区")
    assert confirmed.status_code == 200, confirmed.json
    assert confirmed.json["status"] == "dispatched" and confirmed.json["review_status"] == "confirmed"
    registered = [e for e in confirmed.json["timeline"] if e["kind"] == "registered"][0]
    assert registered["actor"].startswith("dispatcher") and registered["data"]["review"] == "confirmed"
    assert registered["note"] == "车辆确在禁停区"
    assert review(client, case["id"], "confirm").status_code == 409  # reviewed once


def test_reject_closes_with_an_enumerated_reason(platform, client, camera) -> None:
    case = camera("cam-7:illegal_parking:1:1000")
    assert review(client, case["id"], "reject").status_code == 422
    wrong = review(client, case["id"], "reject", reason="looks fine")
    assert wrong.status_code == 422 and "reason" in json.dumps(wrong.json)
    rejected = review(client, case["id"], "reject", reason="false_detection", note="阴影")
    assert rejected.status_code == 200, rejected.json
    assert rejected.json["status"] == "rejected" and rejected.json["reject_reason"] == "false_detection"
    event = rejected.json["timeline"][-1]
    assert event["kind"] == "rejected" and event["data"] == {"reason": "false_detection", "review": "rejected"}
    assert event["actor"].startswith("dispatcher")
    with platform.sessions() as session:
        stored = session.get(Case, case["id"])
        assert stored.status == "rejected" and stored.dispatched_at is None and stored.review_status == "rejected"


def test_pending_case_moves_only_through_review(client, camera) -> None:
    case = camera("cam-7:illegal_parking:1:1000")
    for action, body in (("register", {}), ("reject", {"reason": "false_detection"})):
        answer = client.post(f"/api/cases/{case['id']}/transitions", json={"action": action, **body})
        assert answer.status_code == 409 and "review" in answer.json["message"]
    hotline = client.post("/api/tickets", json=ticket_payload(lon=LON, lat=LAT + 0.01)).json["case"]
    assert review(client, hotline["id"], "confirm").status_code == 409  # a person's case needs no review


@pytest.mark.parametrize("role", ["squad_leader", "officer"])
def test_squads_may_not_review(login, camera, role) -> None:
    case = camera("cam-7:illegal_parking:1:1000")
    member = login(role, case["squad_code"])
    assert review(member, case["id"], "confirm").status_code == 403
    assert review(member, case["id"], "reject", reason="duplicate").status_code == 403


def test_tokens_may_not_review(app, token, camera, platform) -> None:
    case = camera("cam-7:illegal_parking:1:1000")
    machine = app.test_client()
    headers = {"Authorization": f"Bearer {token('camera')}"}
    assert machine.post(f"/api/cases/{case['id']}/review", json={"verdict": "confirm"}, headers=headers).status_code == 403
    with platform.sessions() as session:
        assert session.get(Case, case["id"]).review_status == "pending"


def test_admin_may_review(login, camera) -> None:
    case = camera("cam-7:illegal_parking:1:1000")
    assert review(login("admin"), case["id"], "confirm").json["review_status"] == "confirmed"


def test_hotline_ticket_merged_into_a_rejected_camera_case_becomes_a_case(platform, client, camera) -> None:
    case = camera("cam-7:illegal_parking:1:1000")
    merged = client.post("/api/tickets", json=ticket_payload(lon=LON, lat=LAT, category="0505")).json
    assert merged["outcome"] == "merged" and merged["case"]["id"] == case["id"]
    rejected = review(client, case["id"], "reject", reason="false_detection")
    assert [t["source"] for t in rejected.json["tickets"]] == ["camera"]
    with platform.sessions() as session:
        ticket = session.get(Ticket, merged["ticket"]["id"])
        assert ticket.case_id not in (None, case["id"])
        own = session.get(Case, ticket.case_id)
        assert own.status == "reported" and own.review_status is None and own.tickets[0].id == ticket.id
        split = session.scalars(select(CaseEvent).where(CaseEvent.case_id == case["id"], CaseEvent.kind == "split")).one()
        assert split.data == {"ticket_id": ticket.id, "new_case_id": own.id}


def test_hotline_ticket_of_a_duplicate_joins_the_case_it_duplicates(platform, client, camera) -> None:
    first = camera("cam-7:illegal_parking:1:1000")
    assert review(client, first["id"], "confirm").status_code == 200
    platform.ctx.config = platform.ctx.config.model_copy(update={"merge_radius_m": 0})
    twin = camera("cam-9:illegal_parking:2:2000", east_m=10)  # a second camera on the same car, kept apart
    platform.ctx.config = platform.ctx.config.model_copy(update={"merge_radius_m": 50})
    lon, lat = offset_m(LON, LAT, 10, 0)
    hotline = client.post("/api/tickets", json=ticket_payload(lon=lon, lat=lat, category="0505")).json
    assert hotline["case"]["id"] == twin["id"]  # the nearest open case
    assert review(client, twin["id"], "reject", reason="duplicate").status_code == 200
    with platform.sessions() as session:
        assert session.get(Ticket, hotline["ticket"]["id"]).case_id == first["id"]


def test_review_off_lets_camera_cases_register_at_intake(platform, camera) -> None:
    auto_register(platform, review_detections=False)
    case = camera("cam-7:illegal_parking:1:1000")
    assert case["status"] == "registered" and case["review_status"] is None


def test_stats_count_verdicts_per_source_and_rule(platform, client, camera, login) -> None:
    cases = [camera(f"cam-7:illegal_parking:{n}:{n}000", east_m=200 * n) for n in range(4)]
    review(client, cases[0]["id"], "confirm")
    review(client, cases[1]["id"], "confirm")
    review(client, cases[2]["id"], "reject", reason="not_a_violation")
    rows = client.get("/api/stats/review").json
    assert rows == [{"source": "camera", "rule": "illegal_parking", "confirmed": 2, "rejected": 1, "pending": 1,
                     "false_detection": 0, "not_a_violation": 1, "duplicate": 0, "precision": 0.6667}]
    with platform.sessions() as session:
        squads = session.scalars(select(Squad.code)).all()
    other = next(code for code in squads if code not in {c["squad_code"] for c in cases})
    assert login("squad_leader", other).get("/api/stats/review").json == []


def test_frames_with_boxes_are_kept_and_exported(platform, client, camera, tmp_path) -> None:
    photo = {"name": "first", "jpeg_base64": jpeg_base64(40), "frame_jpeg_base64": jpeg_base64(90),
             "box_xyxy": [4, 6, 40, 30]}
    kept = camera("cam-7:illegal_parking:1:1000", photos=[photo])
    dropped = camera("cam-7:illegal_parking:2:2000", east_m=300, photos=[])
    assert camera("cam-7:illegal_parking:2:2000", east_m=300, phase="update", photos=[photo]) is None
    old_worker = camera("cam-7:illegal_parking:3:3000", east_m=600)  # no frame: skipped by the export
    review(client, kept["id"], "confirm")
    review(client, dropped["id"], "reject", reason="false_detection")
    review(client, old_worker["id"], "confirm")
    with platform.sessions() as session:
        frames = session.scalars(select(Evidence).where(Evidence.box_xyxy.is_not(None))).all()
        assert [f.caption for f in frames] == ["frame first", "frame first"]
        assert all(f.taken_at is not None for f in frames)
        summary = export_reviewed(session=session, store=platform.evidence, out_dir=tmp_path)
    assert (summary.frames, summary.confirmed, summary.rejected, summary.skipped) == (2, 1, 1, 1)
    lines = [json.loads(line) for line in (tmp_path / "reviews.jsonl").read_text().splitlines()]
    assert [(line["verdict"], line["reason"], line["box_xyxy"]) for line in lines] == [
        ("confirmed", None, [4, 6, 40, 30]), ("rejected", "false_detection", [4, 6, 40, 30])]
    assert all((tmp_path / line["image"]).stat().st_size > 0 and line["rule"] == "illegal_parking" for line in lines)
    command = client.application.test_cli_runner().invoke(args=["review", "export", str(tmp_path / "cli")])
    assert command.exit_code == 0, command.output
    assert "2 frames (1 confirmed, 1 rejected)" in command.output and "1 reviewed detections had no" in command.output
    assert len((tmp_path / "cli" / "reviews.jsonl").read_text().splitlines()) == 2


@pytest.mark.parametrize(("photo", "field"), [
    ({"frame_jpeg_base64": "JPEG"}, "box_xyxy"),
    ({"box_xyxy": [1, 2, 3, 4]}, "box_xyxy"),
    ({"frame_jpeg_base64": "JPEG", "box_xyxy": [5, 2, 3, 4]}, "box_xyxy"),
    ({"frame_jpeg_base64": "iVBORw0KGgo=", "box_xyxy": [1, 2, 3, 4]}, "frame_jpeg_base64"),
])
def test_bad_frames_are_refused_naming_the_field(app, token, photo, field) -> None:
    body = report()
    body["photos"][0].update(photo)
    if body["photos"][0].get("frame_jpeg_base64") == "JPEG":
        body["photos"][0]["frame_jpeg_base64"] = jpeg_base64(10)
    answer = app.test_client().post("/api/detections", json=body, headers={"Authorization": f"Bearer {token('camera')}"})
    assert answer.status_code == 422 and field in json.dumps(answer.json)
