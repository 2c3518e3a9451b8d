"""POST /api/tickets and the manual queue, on SQLite and PostgreSQL: effects checked in the store."""
import json

import pytest
from sqlalchemy import func, select

from dispatch.case.models import Case, CaseEvent
from dispatch.squad.models import Cell
from dispatch.ticket.models import Ticket
from grid.crs import wgs84_to_gcj02
from grid.geodesy import offset_m
from tests.factories import DEMO_CENTRE_WGS84, ticket_payload

LON, LAT = DEMO_CENTRE_WGS84


def counts(platform) -> tuple[int, int, int]:
    with platform.sessions() as session:
        return tuple(session.scalar(select(func.count()).select_from(m)) for m in (Ticket, Case, CaseEvent))


def test_hotline_ticket_with_gcj02_coordinates_becomes_a_case(client, platform) -> None:
    lon, lat = offset_m(LON, LAT, 60, -40)
    gcj_lon, gcj_lat = (float(v) for v in wgs84_to_gcj02(lon, lat))
    payload = ticket_payload(lon=gcj_lon, lat=gcj_lat, crs="GCJ-02", external_id="SH-20261122-0001")
    response = client.post("/api/tickets", json=payload)
    assert response.status_code == 201, response.json
    body = response.json
    assert body["outcome"] == "created"
    cell = platform.ctx.grid.locate_one(lon, lat)
    assert body["case"]["cell_code"] == cell
    with platform.sessions() as session:
        assert body["case"]["squad_code"] == session.get(Cell, cell).squad_code
    assert body["ticket"]["location_input"] == {"lon": gcj_lon, "lat": gcj_lat, "crs": "gcj02"}

    again = client.post("/api/tickets", json=payload)
    assert again.status_code == 200 and again.json["outcome"] == "duplicate"
    assert again.json["ticket"]["id"] == body["ticket"]["id"]

    near_lon, near_lat = (float(v) for v in wgs84_to_gcj02(*offset_m(lon, lat, 20, 0)))
    near = client.post("/api/tickets", json=ticket_payload(lon=near_lon, lat=near_lat, crs="gcj02"))
    assert near.status_code == 201 and near.json["outcome"] == "merged"
    assert near.json["case"]["id"] == body["case"]["id"] and near.json["case"]["ticket_count"] == 2
    assert counts(platform) == (2, 1, 2)


def test_caller_contact_is_shown_to_dispatchers_only(client, login, token) -> None:
    gateway = {"Authorization": f"Bearer {token('hotline_12345')}"}
    body = client.post("/api/tickets", json=ticket_payload(lon=LON, lat=LAT), headers=gateway).json
    assert body["ticket"]["reporter"] == {"name": "张*", "phone": "138****1234"}
    case_id = body["case"]["id"]
    assert client.get("/api/tickets").json[0]["reporter"] == {"name": "张三", "phone": "13812341234"}
    assert client.get(f"/api/cases/{case_id}").json["tickets"][0]["reporter"]["phone"] == "13812341234"
    leader = login("squad_leader", body["case"]["squad_code"])
    seen = json.dumps(leader.get(f"/api/cases/{case_id}").json, ensure_ascii=False)
    assert "138****1234" in seen and "13812341234" not in seen and "张三" not in seen
    admin_view = login("admin").get(f"/api/tickets/{body['ticket']['id']}").json
    assert admin_view["reporter"]["phone"] == "13812341234"


BAD_BODIES = [
    ("source", lambda p: p.pop("source")),
    ("external_id", lambda p: p.pop("external_id")),
    ("category", lambda p: p.update(category="9999")),
    ("source", lambda p: p.update(source="wechat")),
    ("lon", lambda p: p["location"].update(lon="114.07")),
    ("lat", lambda p: p["location"].update(lat=True)),
    ("lat", lambda p: p["location"].update(lat=95.0)),
    ("lon", lambda p: p["location"].update(lon=-181.0)),
    ("crs", lambda p: p["location"].update(crs="utm50n")),
    ("crs", lambda p: p["location"].pop("crs")),
    ("phone", lambda p: p["reporter"].update(phone="call me")),
    ("unexpected", lambda p: p.update(unexpected=1)),
    ("text", lambda p: p.update(text="菜场\x00门口")),  # PostgreSQL text cannot hold NUL
    ("reporter.name", lambda p: p["reporter"].update(name="\x00")),
]


@pytest.mark.parametrize(("field", "spoil"), BAD_BODIES, ids=[f"{f}-{i}" for i, (f, _) in enumerate(BAD_BODIES)])
def test_bad_input_names_the_field_and_writes_nothing(client, platform, field, spoil) -> None:
    client.post("/api/tickets", json=ticket_payload(lon=LON, lat=LAT))
    before = counts(platform)
    payload = ticket_payload(lon=LON + 0.001, lat=LAT)
    spoil(payload)
    response = client.post("/api/tickets", json=payload)
    assert response.status_code == 422, response.json
    assert field in json.dumps(response.json["errors"], ensure_ascii=False)
    assert counts(platform) == before


def test_oversized_and_malformed_bodies_are_refused(client, platform) -> None:
    big = ticket_payload(lon=LON, lat=LAT, text="摊" * 600_000)
    response = client.post("/api/tickets", data=json.dumps(big), content_type="application/json")
    assert response.status_code == 413 and response.json["errors"] == {"json": {"body": [response.json["message"]]}}
    broken = client.post("/api/tickets", data="{not json", content_type="application/json")
    assert broken.status_code == 400
    assert counts(platform) == (0, 0, 0)


def test_manual_queue_and_locating_by_hand(client, platform) -> None:
    response = client.post("/api/tickets", json=ticket_payload(lon=None, lat=None, address="浉河区某某街道菜市场门口"))
    assert response.status_code == 201 and response.json["outcome"] == "unlocated"
    ticket_id = response.json["ticket"]["id"]
    queue = client.get("/api/tickets?status=unlocated").json
    assert [t["id"] for t in queue] == [ticket_id]
    bad = client.post(f"/api/tickets/{ticket_id}/locate", json={"location": {"lon": "x", "lat": LAT, "crs": "wgs84"}})
    assert bad.status_code == 422 and "lon" in json.dumps(bad.json["errors"])
    placed = client.post(f"/api/tickets/{ticket_id}/locate", json={"location": {"lon": LON, "lat": LAT, "crs": "wgs84"}})
    assert placed.status_code == 200 and placed.json["outcome"] == "created"
    assert client.get("/api/tickets?status=unlocated").json == []
    again = client.post(f"/api/tickets/{ticket_id}/locate", json={"location": {"lon": LON, "lat": LAT, "crs": "wgs84"}})
    assert again.status_code == 422
    assert client.get("/api/tickets/999999").status_code == 404
