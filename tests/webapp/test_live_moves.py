"""A case dispatched to another squad leaves the first squad's room live, telling it nothing but that it left."""
from grid.geodesy import offset_m
from tests.factories import DEMO_CENTRE_WGS84, ticket_payload
from webapp.extensions import socketio

LON, LAT = DEMO_CENTRE_WGS84
FAR = offset_m(LON, LAT, 1250, 750)  # the north-east squad's block


def case_events(socket) -> list[dict]:
    return [packet["args"][0] for packet in socket.get_received() if packet["name"] == "case_event"]


def test_a_redispatched_case_leaves_the_first_squad_as_a_bare_removal(app, client, login) -> None:
    case = client.post("/api/tickets", json=ticket_payload(lon=LON, lat=LAT, category="0505")).json["case"]
    first = case["squad_code"]
    other = client.post("/api/tickets", json=ticket_payload(lon=FAR[0], lat=FAR[1])).json["case"]["squad_code"]
    assert first != other
    client.post(f"/api/cases/{case['id']}/transitions", json={"action": "register"})
    leader_a = socketio.test_client(app, flask_test_client=login("squad_leader", first))
    leader_b = socketio.test_client(app, flask_test_client=login("squad_leader", other))
    dispatcher = socketio.test_client(app, flask_test_client=login("dispatcher"))
    last_seen_by_a = leader_a.emit("catch_up", {"after_id": 0}, callback=True)["events"][-1]["id"]

    moved = client.post(f"/api/cases/{case['id']}/transitions", json={"action": "dispatch", "squad": other})
    assert moved.status_code == 200 and moved.json["squad_code"] == other

    removal = case_events(leader_a)
    dispatched = case_events(leader_b)
    assert [event["kind"] for event in dispatched] == ["dispatched"]
    assert dispatched[0]["case"]["squad_code"] == other and dispatched[0]["data"]["from_squad"] == first
    assert removal == [{"id": dispatched[0]["id"], "kind": "moved_away", "at": dispatched[0]["at"],
                        "case": {"id": case["id"]}}]  # no category, place, squad or note for the old squad
    assert [event["kind"] for event in case_events(dispatcher)] == ["dispatched"]  # the centre sees it once, whole

    # A squad that was offline learns of the removal when it catches up; the new squad gets the case's story.
    missed = leader_a.emit("catch_up", {"after_id": last_seen_by_a}, callback=True)
    assert missed == {"events": removal, "complete": True}
    history = leader_b.emit("catch_up", {"after_id": 0}, callback=True)["events"]
    assert [event["kind"] for event in history if event["case"]["id"] == case["id"]] == [
        "created", "registered", "dispatched"]


def test_a_dispatch_to_its_own_squad_removes_nothing(app, client, login) -> None:
    case = client.post("/api/tickets", json=ticket_payload(lon=LON, lat=LAT, category="0506")).json["case"]
    client.post(f"/api/cases/{case['id']}/transitions", json={"action": "register"})
    leader = socketio.test_client(app, flask_test_client=login("squad_leader", case["squad_code"]))
    client.post(f"/api/cases/{case['id']}/transitions", json={"action": "dispatch", "squad": case["squad_code"]})
    events = case_events(leader)
    assert [event["kind"] for event in events] == ["dispatched"] and "from_squad" not in events[0]["data"]
