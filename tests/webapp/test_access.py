"""Every route checks who asks: sign-in, role, and squad."""
import re

import pytest

from grid.geodesy import offset_m
from tests.factories import DEMO_CENTRE_WGS84, ticket_payload

LON, LAT = DEMO_CENTRE_WGS84
PUBLIC = {("/api/openapi.json", "GET"), ("/api/auth/login", "POST"), ("/api/auth/logout", "POST")}


def test_every_api_route_refuses_strangers(app) -> None:
    stranger = app.test_client()
    checked = 0
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/"):
            continue
        url = re.sub(r"<int:\w+>", "1", rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            if (rule.rule, method) in PUBLIC:
                continue
            response = stranger.open(url, method=method, json={})
            assert response.status_code == 401, (method, url, response.status_code)
            checked += 1
    assert checked >= 12


def test_wrong_password_is_refused(app, login) -> None:
    login("dispatcher")  # creates dispatcher1 with the tests' password
    response = app.test_client().post("/api/auth/login", json={"username": "dispatcher1", "password": "nope-nope"})
    assert response.status_code == 401


@pytest.fixture
def two_squads(client) -> tuple[dict, dict]:
    """A registered and dispatched case in the south-west squad, and one in the north-east squad."""
    far = offset_m(LON, LAT, 1250, 750)
    cases = []
    for lon, lat in ((LON, LAT), far):
        case = client.post("/api/tickets", json=ticket_payload(lon=lon, lat=lat)).json["case"]
        for action in ("register", "dispatch"):
            assert client.post(f"/api/cases/{case['id']}/transitions", json={"action": action}).status_code == 200
        cases.append(case)
    assert cases[0]["squad_code"] != cases[1]["squad_code"]
    return cases[0], cases[1]


def test_squad_leader_sees_and_moves_only_their_squad(login, two_squads) -> None:
    mine, theirs = two_squads
    leader = login("squad_leader", mine["squad_code"])
    assert [c["id"] for c in leader.get("/api/cases").json["items"]] == [mine["id"]]
    assert leader.get(f"/api/cases?squad={theirs['squad_code']}").status_code == 403
    assert leader.get(f"/api/cases/{theirs['id']}").status_code == 403
    assert leader.get(f"/api/cases/{mine['id']}").status_code == 200
    move = {"action": "accept"}
    assert leader.post(f"/api/cases/{theirs['id']}/transitions", json=move).status_code == 403
    assert leader.post(f"/api/cases/{mine['id']}/transitions", json=move).status_code == 200
    assert leader.post(f"/api/cases/{mine['id']}/transitions", json={"action": "close"}).status_code == 403
    assert leader.get("/api/tickets").status_code == 403
    assert leader.get(f"/api/tickets/{theirs['id']}").status_code in (403, 404)


def test_centre_does_not_accept_for_a_squad(client, two_squads) -> None:
    mine, _ = two_squads
    assert client.post(f"/api/cases/{mine['id']}/transitions", json={"action": "accept"}).status_code == 403


@pytest.mark.parametrize(
    ("who", "source", "code"),
    [
        ("token:hotline_12345", "hotline_12345", 201),
        ("token:hotline_12345", "camera", 403),
        ("token:camera", "camera", 201),
        ("officer", "patrol", 201),
        ("officer", "hotline_12345", 403),
        ("dispatcher", "hotline_12319", 201),
    ],
)
def test_who_may_submit_as_which_source(login, token, app, who, source, code) -> None:
    if who.startswith("token:"):
        client = app.test_client()
        headers = {"Authorization": f"Bearer {token(who.removeprefix('token:'))}"}
    else:
        client = login(who, "SQ01" if who == "officer" else None)
        headers = {}
    response = client.post("/api/tickets", json=ticket_payload(lon=LON, lat=LAT, source=source), headers=headers)
    assert response.status_code == code, response.json


def test_tokens_only_submit_and_bad_tokens_are_strangers(app, token) -> None:
    client = app.test_client()
    good = {"Authorization": f"Bearer {token('camera')}"}
    assert client.get("/api/cases", headers=good).status_code == 403
    assert client.get("/api/cases", headers={"Authorization": "Bearer gp_forged"}).status_code == 401
