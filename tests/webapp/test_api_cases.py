"""Cases through the API: the loop, refusals, filters, the city and the statistics."""
import datetime as dt
import re

import pytest
from openapi_spec_validator import validate

from dispatch.case.models import Case
from grid.geodesy import offset_m
from tests.factories import DEMO_CENTRE_WGS84, site_photo_form, ticket_payload

LON, LAT = DEMO_CENTRE_WGS84


def new_case(client, **kwargs) -> dict:
    response = client.post("/api/tickets", json=ticket_payload(**{"lon": LON, "lat": LAT, **kwargs}))
    assert response.status_code == 201, response.json
    return response.json["case"]


def act(client, case_id: int, action: str, **body):
    return client.post(f"/api/cases/{case_id}/transitions", json={"action": action, **body})


LOOP = [("register", {}), ("dispatch", {}), ("accept", {}), ("handle", {"result": "persuaded"}),
        ("verify", {}), ("close", {})]
SQUAD_ACTIONS = {"accept", "handle"}


@pytest.fixture
def run(client, login):
    """run(case, steps): each step by whom the loop wants — the squad's leader accepts and handles."""
    leaders = {}

    def perform(case: dict, steps) -> None:
        for action, body in steps:
            if action in SQUAD_ACTIONS:
                leader = leaders.setdefault(case["squad_code"], login("squad_leader", case["squad_code"]))
                if action == "handle":  # the report needs a photo taken on site (config/categories.yaml)
                    uploaded = leader.post(f"/api/cases/{case['id']}/evidence", data=site_photo_form(),
                                           content_type="multipart/form-data")
                    assert uploaded.status_code == 201, uploaded.json
                response = act(leader, case["id"], action, **body)
            else:
                response = act(client, case["id"], action, **body)
            assert response.status_code == 200, (action, response.json)

    return perform


def test_full_loop_with_rework_and_timeline(client, login, run, platform, published) -> None:
    case = new_case(client)
    run(case, LOOP[:4])
    returned = act(client, case["id"], "return", reason="复查仍有摊点")
    assert returned.status_code == 200 and returned.json["status"] == "dispatched"
    run(case, LOOP[2:])
    detail = client.get(f"/api/cases/{case['id']}").json
    assert detail["status"] == "closed" and detail["rework_count"] == 1
    kinds = [e["kind"] for e in detail["timeline"]]
    assert kinds == ["created", "registered", "dispatched", "accepted", "handled", "returned",
                     "accepted", "handled", "verified", "closed"]
    assert detail["timeline"][1]["actor"].startswith("dispatcher")
    assert detail["timeline"][3]["actor"].startswith("squad_leader")
    assert [m["kind"] for m in published] == kinds
    with platform.sessions() as session:
        assert session.get(Case, case["id"]).closed_at is not None


@pytest.mark.parametrize(
    ("action", "body", "code", "text"),
    [
        ("dispatch", {}, 409, "'reported' (reported → dispatched"),
        ("close", {}, 409, "reported → closed"),
        ("reject", {}, 422, "reason"),
        ("fly", {}, 422, "action"),
    ],
)
def test_refused_moves_name_the_problem_and_change_nothing(client, action, body, code, text) -> None:
    case = new_case(client)
    response = act(client, case["id"], action, **body)
    assert response.status_code == code
    assert text in str(response.json)
    detail = client.get(f"/api/cases/{case['id']}").json
    assert detail["status"] == "reported" and len(detail["timeline"]) == 1


def test_handle_needs_a_result_and_dispatch_a_real_squad(client, login) -> None:
    case = new_case(client)
    act(client, case["id"], "register")
    assert act(client, case["id"], "dispatch", squad="NOPE").status_code == 422
    other = next(s["code"] for s in client.get("/api/squads").json if s["code"] != case["squad_code"])
    assert act(client, case["id"], "dispatch", squad=other).json["squad_code"] == other
    leader = login("squad_leader", other)
    act(leader, case["id"], "accept")
    response = act(leader, case["id"], "handle")
    assert response.status_code == 422 and "result" in str(response.json)
    assert client.post("/api/cases/424242/transitions", json={"action": "register"}).status_code == 404


def test_filters(client) -> None:
    a = new_case(client, category="0501")
    b = new_case(client, category="0505")
    far_lon, far_lat = offset_m(LON, LAT, 1200, 900)
    c = new_case(client, category="0501", lon=far_lon, lat=far_lat)
    act(client, a["id"], "register")

    def ids(query: str) -> set[int]:
        body = client.get(f"/api/cases?{query}").json
        assert body["total"] == len(body["items"])
        return {item["id"] for item in body["items"]}

    assert ids("") == {a["id"], b["id"], c["id"]}
    assert ids("status=registered") == {a["id"]}
    assert ids("status=registered&status=reported") == {a["id"], b["id"], c["id"]}
    assert ids("category=0505") == {b["id"]}
    assert ids(f"cell={c['cell_code']}") == {c["id"]}
    assert ids(f"squad={a['squad_code']}") >= {a["id"]}
    assert ids("overdue=true") == set()
    future = (dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=1)).isoformat()
    assert ids(f"since={future.replace('+', '%2B')}") == set()
    assert client.get("/api/cases?status=bogus").status_code == 422
    newest_first = [item["id"] for item in client.get("/api/cases").json["items"]]
    assert newest_first == sorted(newest_first, reverse=True)


def test_split_through_the_api(client) -> None:
    first = client.post("/api/tickets", json=ticket_payload(lon=LON, lat=LAT)).json
    second = client.post("/api/tickets", json=ticket_payload(lon=LON, lat=LAT)).json
    assert second["outcome"] == "merged"
    response = client.post(f"/api/cases/{first['case']['id']}/split", json={"ticket_id": second["ticket"]["id"]})
    assert response.status_code == 201 and response.json["id"] != first["case"]["id"]
    refused = client.post(f"/api/cases/{first['case']['id']}/split", json={"ticket_id": first["ticket"]["id"]})
    assert refused.status_code == 422 and "ticket_id" in str(refused.json)


def test_city_squads_grid_and_categories(client, platform) -> None:
    squads = client.get("/api/squads").json
    assert len(squads) == len(platform.ctx.grid.squad_codes)
    assert sum(s["cell_count"] for s in squads) == len(platform.ctx.grid)
    grid = client.get("/api/grid").json
    assert grid["type"] == "FeatureCollection" and len(grid["features"]) == len(platform.ctx.grid)
    one = client.get(f"/api/grid?squad={squads[0]['code']}").json
    assert len(one["features"]) == squads[0]["cell_count"]
    assert {f["properties"]["squad_code"] for f in one["features"]} == {squads[0]["code"]}
    categories = {c["code"]: c for c in client.get("/api/categories").json}
    assert categories["0505"]["name_zh"] == "机动车乱停放" and "0501" in categories


def test_squad_statistics(client, login, run) -> None:
    on_time = new_case(client, category="0501")
    reworked = new_case(client, category="0505", lon=offset_m(LON, LAT, 0, 300)[0], lat=offset_m(LON, LAT, 0, 300)[1])
    open_case = new_case(client, category="0507")
    for case in (on_time, reworked):
        run(case, LOOP[:4])
    run(reworked, [("return", {"reason": "未整改"}), ("accept", {}), ("handle", {"result": "simple_penalty"})])
    run(on_time, LOOP[4:])
    run(open_case, LOOP[:1])
    squad = on_time["squad_code"]
    assert reworked["squad_code"] == squad == open_case["squad_code"]
    row = next(r for r in client.get("/api/stats/squads").json if r["squad_code"] == squad)
    assert (row["cases"], row["handled"], row["closed"]) == (3, 2, 1)
    assert row["closure_rate"] == pytest.approx(1 / 3, abs=1e-3)
    assert row["rework_rate"] == 0.5 and row["on_time_rate"] == 1.0
    others = [r for r in client.get("/api/stats/squads").json if r["squad_code"] != squad]
    assert all(r["cases"] == 0 and r["closure_rate"] is None for r in others)


def test_openapi_document_matches_the_routes(client, app) -> None:
    spec = client.get("/api/openapi.json").json
    validate(spec)
    documented = {(path, method.upper()) for path, item in spec["paths"].items() for method in item
                  if method != "parameters" and path.startswith("/api/")}  # /open311/v2 follows its own spec
    served = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/") and rule.endpoint != "api-docs.openapi_json":
            path = re.sub(r"<(?:[^:>]+:)?(\w+)>", r"{\1}", rule.rule)
            served |= {(path, m) for m in rule.methods - {"HEAD", "OPTIONS"}}
    assert served == documented
    transition_body = spec["paths"]["/api/cases/{case_id}/transitions"]["post"]["requestBody"]
    assert transition_body["required"] is True


@pytest.mark.parametrize("ticket_id", [2147483648, -1, 0])
def test_split_refuses_ids_no_ticket_can_have(client, ticket_id) -> None:
    case = new_case(client)
    response = client.post(f"/api/cases/{case['id']}/split", json={"ticket_id": ticket_id})
    assert response.status_code == 422, response.data[:300]
    assert "ticket_id" in response.json["errors"]["json"]
