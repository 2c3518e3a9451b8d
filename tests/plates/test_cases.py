"""Plates on cases: repeat offenders across cases, the first-offence rule, corrections, privacy, off-site handling."""
import pytest
from sqlalchemy import select

from dispatch.case.models import Case, CaseEvent
from dispatch.casefile.record import case_record
from dispatch.db import utcnow
from grid.geodesy import offset_m
from tests.dispatch.test_detections import jpeg_base64, report
from tests.factories import DEMO_CENTRE_WGS84, add_site_photo, ticket_payload

LON, LAT = DEMO_CENTRE_WGS84


def hotline(client, text: str, east_m: float) -> dict:
    """A 12345 parking complaint `east_m` east of the centre (far enough apart not to merge)."""
    lon, lat = offset_m(LON, LAT, east_m, 0)
    response = client.post("/api/tickets", json=ticket_payload(lon=lon, lat=lat, category="0505", text=text))
    assert response.status_code == 201, response.json
    return response.json["case"]


def camera_report(app, token, event_id: str, plate: dict | None, photos=(("first", 40), ("second", 60)),
                  east_m: float = 0.0) -> dict:
    http = app.test_client()
    lon, lat = offset_m(LON, LAT, east_m, 0)
    body = report(event_id=event_id, photos=photos, plate=plate, lon=lon, lat=lat)
    response = http.post("/api/detections", json=body, headers={"Authorization": f"Bearer {token('camera')}"})
    assert response.status_code == 200, response.json
    return response.json["case"]


def kinds(platform, case_id: int) -> list[CaseEvent]:
    with platform.sessions() as session:
        return list(session.scalars(select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.id)))


def test_a_repeat_plate_is_found_across_cases_and_the_second_offence_is_not_let_off(platform, client) -> None:
    first = hotline(client, "豫S·12345 小车停在盲道上", 0)
    other = hotline(client, "一辆车停在人行道，车牌看不清", 600)
    second = hotline(client, "又是豫s12345，占用人行道停车", 1200)
    first_view, second_view = (client.get(f"/api/cases/{c['id']}").json for c in (first, second))
    assert first_view["plate"] == second_view["plate"] == "豫S12345"
    assert first_view["plate_source"] == "text" and client.get(f"/api/cases/{other['id']}").json["plate"] is None
    assert first_view["leniency"] == "warned"  # 首违不罚
    assert second_view["leniency"] == "simple_penalty"
    assert [c["id"] for c in second_view["plate_history"]] == [first["id"]] and first_view["plate_history"] == []
    suggestion = [e for e in second_view["timeline"] if e["kind"] == "leniency"][0]
    assert suggestion["data"]["offence"] == 2 and suggestion["data"]["earlier_case_ids"] == [first["id"]]
    looked_up = client.get("/api/plates/豫S·12345/cases").json
    assert [c["id"] for c in looked_up["cases"]] == [second["id"], first["id"]]
    stats = client.get("/api/plates/stats").json
    assert stats["repeat_plates"] == [{"plate": "豫S***45", "cases": 2}]
    assert stats["suggestions"] == {"warned": 1, "simple_penalty": 1}


def test_a_rejected_case_is_no_earlier_offence(platform, client) -> None:
    first = hotline(client, "浙A6MX97 乱停", 0)
    assert client.post(f"/api/cases/{first['id']}/transitions", json={"action": "reject", "reason": "重复"}).status_code == 200
    second = hotline(client, "浙A6MX97 又停这", 700)
    assert client.get(f"/api/cases/{second['id']}").json["leniency"] == "warned"


def test_a_dispatcher_corrects_a_misread_plate_and_the_timeline_says_who_from_what(platform, app, token, client) -> None:
    case = camera_report(app, token, "cam-7:illegal_parking:1:100",
                         {"text": "苏FD51712", "colour": "green", "confidence": 0.67, "raw": "苏FD51712",
                          "name": "cam-7_1_plate.jpg", "crop_jpeg_base64": jpeg_base64(120)})
    assert case["plate"] == "苏F****12"  # the camera's token sees the plate masked
    detail = client.get(f"/api/cases/{case['id']}").json
    assert detail["plate"] == "苏FD51712" and detail["plate_colour"] == "green" and detail["plate_crop_id"]
    crop = client.get(f"/api/evidence/{detail['plate_crop_id']}")
    assert crop.status_code == 200 and crop.data[:2] == b"\xff\xd8"
    crop.close()
    corrected = client.put(f"/api/cases/{case['id']}/plate", json={"plate": "苏E·D51712", "note": "照片可辨认为 E"})
    assert corrected.status_code == 200, corrected.json
    assert corrected.json["plate"] == "苏ED51712" and corrected.json["plate_source"] == "dispatcher"
    assert corrected.json["plate_confidence"] == 1.0
    change = [e for e in corrected.json["timeline"] if e["kind"] == "plate"][-1]
    assert change["data"]["previous"] == "苏FD51712" and change["data"]["plate"] == "苏ED51712"
    assert change["actor"].startswith("dispatcher") and change["note"] == "照片可辨认为 E"
    # the camera's later read never overwrites a person's correction
    camera_report(app, token, "cam-7:illegal_parking:1:100",
                  {"text": "苏FD51712", "colour": "green", "confidence": 0.99, "name": "b.jpg",
                   "crop_jpeg_base64": jpeg_base64(100)})
    assert client.get(f"/api/cases/{case['id']}").json["plate"] == "苏ED51712"
    assert client.put(f"/api/cases/{case['id']}/plate", json={"plate": "ABC"}).status_code == 422


def test_an_unreadable_plate_leaves_no_plate_and_says_why(platform, app, token, client) -> None:
    case = camera_report(app, token, "cam-7:illegal_parking:2:100",
                         {"text": None, "confidence": 0.01, "raw": "皖AI9815", "reason": "low_confidence",
                          "detail": "weakest character 0.01 < 0.40"})
    detail = client.get(f"/api/cases/{case['id']}").json
    assert detail["plate"] is None and "low_confidence" in detail["plate_note"] and detail["leniency"] is None
    bad = report(event_id="cam-7:illegal_parking:3:100", plate={"text": "NOTAPLATE", "confidence": 0.9})
    refused = app.test_client().post("/api/detections", json=bad, headers={"Authorization": f"Bearer {token('camera')}"})
    assert refused.status_code == 422 and "plate" in str(refused.json)


def test_plates_are_shown_to_the_squad_masked_in_exports_and_searched_by_allowed_roles(platform, client, login) -> None:
    case = hotline(client, "豫S·D12345 新能源车占道", 0)
    squad = case["squad_code"]
    assert login("officer", squad).get(f"/api/cases/{case['id']}").json["plate"] == "豫SD12345"
    assert login("officer", squad).get("/api/plates/豫SD12345/cases").status_code == 403
    assert login("squad_leader", squad).get("/api/plates/豫SD12345/cases").status_code == 200
    assert login("officer", "SQ01" if squad != "SQ01" else "SQ02").get(f"/api/cases/{case['id']}").status_code == 403
    with platform.sessions() as session:
        kept = session.get(Case, case["id"])
        records = [case_record(session=session, case=kept, categories=platform.ctx.categories, reveal_contact=reveal,
                               now=utcnow()) for reveal in (False, True)]
    for record in records:  # the case file is an export: masked even for a dispatcher
        assert record["case"]["plate"] == "豫S****45"
        assert "D123" not in str(record) and "新能源车占道" in record["tickets"][0]["text"]


def test_off_site_handling_needs_the_city_two_photos_and_a_confident_plate(platform, app, token, login) -> None:
    client = login("admin")  # an admin may take every step, the squad's too
    plate = {"text": "豫S12345", "colour": "blue", "confidence": 0.97, "name": "p.jpg",
             "crop_jpeg_base64": jpeg_base64(90)}
    case = camera_report(app, token, "cam-7:illegal_parking:4:100", plate)
    weak = camera_report(app, token, "cam-7:illegal_parking:5:100", {**plate, "confidence": 0.5, "name": "w.jpg"},
                         photos=(("one", 40),), east_m=700)
    for kase in (case, weak):
        assert client.post(f"/api/cases/{kase['id']}/review", json={"verdict": "confirm"}).status_code == 200
        for action in ("dispatch", "accept"):
            assert client.post(f"/api/cases/{kase['id']}/transitions", json={"action": action}).status_code == 200, action
    handle = {"action": "handle", "result": "offsite_notice"}
    refused = client.post(f"/api/cases/{case['id']}/transitions", json=handle)
    assert refused.status_code == 422 and "not enabled" in refused.json["message"]
    platform.ctx.plates = platform.ctx.plates.model_copy(update={"offsite": platform.ctx.plates.offsite.model_copy(
        update={"enabled": True})})
    assert client.get(f"/api/cases/{case['id']}").json["offsite"]["allowed"] is True
    weak_answer = client.post(f"/api/cases/{weak['id']}/transitions", json=handle)
    assert weak_answer.status_code == 422 and "2 camera photos" in weak_answer.json["message"]
    handled = client.post(f"/api/cases/{case['id']}/transitions", json=handle)
    assert handled.status_code == 200, handled.json  # no site photo: the camera's photos are the evidence
    notice = [e for e in handled.json["timeline"] if e["kind"] == "handled"][-1]["data"]["notice"]
    assert notice["plate"] == "豫S12345" and len(notice["photo_ids"]) == 2
    assert notice["legal_basis"] == platform.ctx.plates.offsite.legal_basis
    casefile = client.get(f"/api/cases/{case['id']}/file?format=zip")
    assert casefile.status_code == 200
    casefile.close()


def test_a_warning_needs_a_site_photo_like_any_handling_on_site(platform, login) -> None:
    client = login("admin")
    case = hotline(client, "豫S·54321 停在消防通道", 0)
    for action in ("register", "dispatch", "accept"):
        assert client.post(f"/api/cases/{case['id']}/transitions", json={"action": action}).status_code == 200
    assert client.post(f"/api/cases/{case['id']}/transitions",
                       json={"action": "handle", "result": "warned"}).status_code == 422
    with platform.sessions() as session:
        add_site_photo(session, case["id"])
        session.commit()
    assert client.post(f"/api/cases/{case['id']}/transitions", json={"action": "handle", "result": "warned"}).status_code == 200
    assert client.get("/api/plates/stats").json["warned"] == 1
