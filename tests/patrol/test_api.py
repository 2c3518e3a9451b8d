"""Patrols through the API: positions stored once and in order, only during a patrol; check-ins against the beat;
finds through intake; dispatch suggestions and dispatch to a named officer; retention."""
import datetime as dt
import io

import pytest

from dispatch.db import utcnow
from dispatch.patrol.service import purge_positions
from grid.geodesy import haversine_m
from tests.factories import SITE_PHOTO_PNG, ticket_payload
from tests.patrol.conftest import cell_points


def at(seconds: float) -> str:
    return (utcnow() + dt.timedelta(seconds=seconds)).isoformat()


def put_roster(client, squad: str, officer: str, cells: list[str], start: str = "00:00", end: str = "00:00"):
    """A roster row giving `officer` these cells all day, every day (start = end: round the clock)."""
    body = {"shifts": [{"officer": officer, "label": "全天", "days": "daily", "start": start, "end": end,
                        "cells": cells}]}
    return client.put(f"/api/patrol/roster?squad={squad}", json=body)


def test_positions_out_of_order_and_resent_are_stored_once_in_order(member, sw_squad, platform) -> None:
    officer = member("officer", sw_squad, "zhang")
    leader = member("squad_leader", sw_squad, "zhao")
    (_, lon, lat), = cell_points(platform, sw_squad, 1)
    assert officer.client.post("/api/patrol/positions", json={"positions": [
        {"at": at(0), "lon": lon, "lat": lat}]}).status_code == 409  # no patrol: nothing of where they are is kept
    assert officer.client.post("/api/patrol/start").status_code == 200
    points = [{"at": at(s), "lon": lon + s * 1e-5, "lat": lat, "accuracy": 8} for s in (30, 10, 20)]
    first = officer.client.post("/api/patrol/positions", json={"positions": points})
    assert first.json == {"accepted": 3, "duplicates": 0, "outside": 0}
    # The phone reconnects and sends its backlog again, with one new fix and one from before the patrol.
    again = points[:2] + [{"at": at(40), "lon": lon + 40e-5, "lat": lat},
                          {"at": at(-3600), "lon": lon, "lat": lat}]
    second = officer.client.post("/api/patrol/positions", json={"positions": again})
    assert second.json == {"accepted": 1, "duplicates": 2, "outside": 1}
    track = leader.client.get("/api/patrol/tracks/zhang").json
    (line,) = track["patrols"]
    assert line["times"] == sorted(line["times"]) and len(line["times"]) == 4
    assert [round((c[0] - lon) / 1e-5) for c in line["coordinates"]] == [10, 20, 30, 40]
    assert officer.client.post("/api/patrol/end").status_code == 200
    late = officer.client.post("/api/patrol/positions", json={"positions": [{"at": at(7200), "lon": lon, "lat": lat}]})
    assert late.status_code == 409 and late.json["key"] == "not_on_patrol"


def test_check_in_names_its_cell_and_whether_it_is_in_the_beat(member, sw_squad, platform) -> None:
    officer = member("officer", sw_squad, "li")
    leader = member("squad_leader", sw_squad, "wang")
    (beat_cell, lon, lat), (other_cell, lon2, lat2) = cell_points(platform, sw_squad, 2)
    assert put_roster(leader.client, sw_squad, "li", [beat_cell]).status_code == 200
    assert officer.client.post("/api/patrol/check-ins", json={"lon": lon, "lat": lat}).status_code == 409
    officer.client.post("/api/patrol/start")
    inside = officer.client.post("/api/patrol/check-ins", json={"lon": lon, "lat": lat})
    outside = officer.client.post("/api/patrol/check-ins", json={"lon": lon2, "lat": lat2})
    assert (inside.status_code, inside.json["cell_code"], inside.json["in_beat"]) == (201, beat_cell, True)
    assert (outside.json["cell_code"], outside.json["in_beat"]) == (other_cell, False)
    assert officer.client.get("/api/patrol/me").json["beat"] == [beat_cell]


def test_a_find_goes_through_intake_merges_and_counts_for_its_officer(member, sw_squad, platform, client) -> None:
    officer = member("officer", sw_squad, "sun")
    leader = member("squad_leader", sw_squad, "qian")
    (_, lon, lat), = cell_points(platform, sw_squad, 1)
    officer.client.post("/api/patrol/start")
    officer.client.post("/api/patrol/positions", json={"positions": [{"at": at(0), "lon": lon, "lat": lat}]})
    form = {"category": "0501", "text": "人行道流动摊贩", "client_id": "find-0001",
            "photo": (io.BytesIO(SITE_PHOTO_PNG), "find.png")}
    found = officer.client.post("/api/patrol/finds", data=form, content_type="multipart/form-data")
    assert found.status_code == 201, found.json
    assert found.json["outcome"] == "created" and found.json["ticket"]["source"] == "patrol"
    assert found.json["ticket"]["location"]["lon"] == pytest.approx(lon)  # the patrol's position filled it in
    resent = officer.client.post("/api/patrol/finds", data={**form, "photo": (io.BytesIO(SITE_PHOTO_PNG), "f.png")},
                                 content_type="multipart/form-data")
    assert resent.status_code == 200 and resent.json["outcome"] == "duplicate"
    hotline = client.post("/api/tickets", json=ticket_payload(lon=lon, lat=lat + 0.0001, category="0501"))
    assert hotline.json["outcome"] == "merged" and hotline.json["case"]["id"] == found.json["case"]["id"]
    detail = client.get(f"/api/cases/{found.json['case']['id']}").json
    assert any(item["uri"].startswith("evidence/patrol-") for item in detail["evidence"])
    log = leader.client.get("/api/patrol/duty?period=day").json
    row = next(o for o in log["squads"][0]["officers"] if o["username"] == "sun")
    assert row["cases_found"] == 1


def test_duty_log_from_positions_check_ins_and_the_timeline(member, sw_squad, platform, client) -> None:
    officer = member("officer", sw_squad, "zhou")
    leader = member("squad_leader", sw_squad, "wu")
    (cell, lon, lat), (_, lon2, lat2), (_, lon3, lat3) = cell_points(platform, sw_squad, 3)
    put_roster(leader.client, sw_squad, "zhou", [cell])
    officer.client.post("/api/patrol/start")
    walk = [(lon, lat), (lon2, lat2), (lon3, lat3)]
    officer.client.post("/api/patrol/positions", json={"positions": [
        {"at": at(i), "lon": x, "lat": y} for i, (x, y) in enumerate(walk)]})
    officer.client.post("/api/patrol/check-ins", json={"lon": lon, "lat": lat})
    officer.client.post("/api/patrol/check-ins", json={"lon": lon3, "lat": lat3})
    case = client.post("/api/tickets", json=ticket_payload(lon=lon, lat=lat, category="0505")).json["case"]
    client.post(f"/api/cases/{case['id']}/transitions", json={"action": "register"})
    client.post(f"/api/cases/{case['id']}/transitions", json={"action": "dispatch"})
    officer.client.post(f"/api/cases/{case['id']}/transitions", json={"action": "accept"})
    from tests.factories import site_photo_form
    officer.client.post(f"/api/cases/{case['id']}/evidence", data=site_photo_form(), content_type="multipart/form-data")
    handled = officer.client.post(f"/api/cases/{case['id']}/transitions", json={"action": "handle", "result": "persuaded"})
    assert handled.status_code == 200, handled.json
    officer.client.post("/api/patrol/end")
    log = leader.client.get(f"/api/patrol/duty?period=week&squad={sw_squad}").json
    (squad,) = log["squads"]
    row = next(o for o in squad["officers"] if o["username"] == "zhou")
    expected = sum(float(haversine_m(*walk[i], *walk[i + 1])) for i in range(2))
    assert row["distance_m"] == pytest.approx(expected, abs=0.5) and 490 < row["distance_m"] < 510
    assert (row["check_ins_in_beat"], row["check_ins_outside"]) == (1, 1)
    assert (row["cases_handled"], row["on_time_rate"]) == (1, 1.0)
    assert row["patrol_s"] >= 0 and squad["total"]["distance_m"] >= row["distance_m"]
    from openpyxl import load_workbook
    exported = leader.client.get(f"/api/patrol/duty?period=month&squad={sw_squad}&format=xlsx")
    sheet = load_workbook(io.BytesIO(exported.data)).active
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    zhou = next(r for r in rows if r[1] == "zhou")
    assert zhou[4] == pytest.approx(expected / 1000, abs=0.001) and zhou[5:9] == [1, 1, 0, 1]
    mine = officer.client.get("/api/patrol/duty").json["squads"][0]["officers"]
    assert [o["username"] for o in mine] == ["zhou"]  # an officer reads their own row only


def test_suggestions_nearest_first_and_dispatch_to_a_named_officer(member, sw_squad, platform, client) -> None:
    near, far = member("officer", sw_squad, "near1"), member("officer", sw_squad, "far1")
    (cell, lon, lat), _, (_, lon3, lat3) = cell_points(platform, sw_squad, 3)
    leader = member("squad_leader", sw_squad, "lead1")
    put_roster(leader.client, sw_squad, "far1", [cell])
    for who, (x, y) in ((near, (lon, lat)), (far, (lon3, lat3))):
        who.client.post("/api/patrol/start")
        who.client.post("/api/patrol/positions", json={"positions": [{"at": at(0), "lon": x, "lat": y}]})
    case = client.post("/api/tickets", json=ticket_payload(lon=lon, lat=lat, category="0505")).json["case"]
    client.post(f"/api/cases/{case['id']}/transitions", json={"action": "register"})
    hint = client.get(f"/api/patrol/suggestions/{case['id']}").json
    assert [o["username"] for o in hint["officers"]] == ["near1", "far1"]
    assert hint["officers"][0]["distance_m"] < 5 < hint["officers"][1]["distance_m"]
    assert [h["username"] for h in hint["beat_holders"]] == ["far1"] and hint["beat_holders"][0]["on_duty"]
    assert near.client.get(f"/api/patrol/suggestions/{case['id']}").status_code == 403
    outsider = member("officer", "SQ01" if sw_squad != "SQ01" else "SQ02", "elsewhere")
    wrong = client.post(f"/api/cases/{case['id']}/transitions", json={"action": "dispatch", "officer": outsider.username})
    assert wrong.status_code == 422 and wrong.json["key"] == "unknown_officer"
    sent = client.post(f"/api/cases/{case['id']}/transitions", json={"action": "dispatch", "officer": "near1"})
    assert sent.status_code == 200 and sent.json["assigned_to"] == "near1"
    assert sent.json["timeline"][-1]["data"]["officer"] == "near1"


def test_old_positions_are_deleted_after_the_retention_period(member, sw_squad, platform) -> None:
    officer = member("officer", sw_squad, "old1")
    (_, lon, lat), = cell_points(platform, sw_squad, 1)
    officer.client.post("/api/patrol/start")
    officer.client.post("/api/patrol/positions", json={"positions": [{"at": at(0), "lon": lon, "lat": lat}]})
    with platform.sessions() as session:
        assert purge_positions(session=session, now=utcnow(), retention_days=1) == 0
        assert purge_positions(session=session, now=utcnow() + dt.timedelta(days=2), retention_days=1) == 1
        session.commit()
