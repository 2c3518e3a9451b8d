"""Live push: rooms by role and squad, refusal of strangers, catch-up after a dropped link."""
from flask.testing import FlaskClient

from grid.geodesy import offset_m
from dispatch.case.events import OUTBOX_KEY
from dispatch.intake import submit_ticket
from tests.factories import DEMO_CENTRE_WGS84, ticket_in, ticket_payload
from webapp.extensions import socketio
from webapp.live import LIVE_KEY

LON, LAT = DEMO_CENTRE_WGS84
FAR = offset_m(LON, LAT, 1250, 750)  # the north-east squad's block


def socket_for(app, client: FlaskClient):
    return socketio.test_client(app, flask_test_client=client)


def case_events(socket) -> list[dict]:
    return [packet["args"][0] for packet in socket.get_received() if packet["name"] == "case_event"]


def test_strangers_are_refused(app) -> None:
    assert not socket_for(app, app.test_client()).is_connected()


def test_each_room_gets_only_its_events(app, client, login) -> None:
    south_west = client.post("/api/tickets", json=ticket_payload(lon=LON, lat=LAT)).json["case"]["squad_code"]
    north_east = client.post("/api/tickets", json=ticket_payload(lon=FAR[0], lat=FAR[1])).json["case"]["squad_code"]
    dispatcher = socket_for(app, login("dispatcher"))
    leader_a = socket_for(app, login("squad_leader", south_west))
    leader_b = socket_for(app, login("squad_leader", north_east))
    assert dispatcher.is_connected() and leader_a.is_connected() and leader_b.is_connected()

    created = client.post("/api/tickets", json=ticket_payload(lon=LON, lat=offset_m(LON, LAT, 0, 60)[1],
                                                              category="0505")).json["case"]
    client.post(f"/api/cases/{created['id']}/transitions", json={"action": "register"})

    assert [(e["kind"], e["case"]["id"]) for e in case_events(dispatcher)] == [
        ("created", created["id"]), ("registered", created["id"])]
    assert [e["kind"] for e in case_events(leader_a)] == ["created", "registered"]
    assert case_events(leader_b) == []
    assert "13812341234" not in str(case_events(dispatcher))  # events carry the case, never callers' contacts


def test_catch_up_returns_what_a_dropped_link_missed(app, client, login) -> None:
    first = client.post("/api/tickets", json=ticket_payload(lon=LON, lat=LAT)).json["case"]
    client.post("/api/tickets", json=ticket_payload(lon=FAR[0], lat=FAR[1]))
    leader = socket_for(app, login("squad_leader", first["squad_code"]))
    answer = leader.emit("catch_up", {"after_id": 0}, callback=True)
    assert [(e["kind"], e["case"]["id"]) for e in answer["events"]] == [("created", first["id"])]
    last_seen = answer["events"][-1]["id"]
    leader.disconnect()
    client.post(f"/api/cases/{first['id']}/transitions", json={"action": "register"})
    leader = socket_for(app, login("squad_leader", first["squad_code"]))
    missed = leader.emit("catch_up", {"after_id": last_seen}, callback=True)
    assert [e["kind"] for e in missed["events"]] == ["registered"] and missed["complete"] is True
    assert leader.emit("catch_up", {"after_id": "x"}, callback=True) == {
        "error": "after_id must be a non-negative integer"}
    everything = socket_for(app, login("dispatcher")).emit("catch_up", {"after_id": 0}, callback=True)
    assert len(everything["events"]) == 3


def test_events_lost_while_the_bus_was_away_are_replayed_once(app, client, login, platform) -> None:
    dispatcher = socket_for(app, login("dispatcher"))
    first = client.post("/api/tickets", json=ticket_payload(lon=LON, lat=LAT)).json["case"]
    with platform.sessions() as session:  # committed while Redis was away: never published
        lost = submit_ticket(session=session, ctx=platform.ctx, ticket_in=ticket_in(lon=FAR[0], lat=FAR[1]), raw={},
                             actor="test")
        session.info.pop(OUTBOX_KEY)  # nothing published
        session.commit()
    assert [e["case"]["id"] for e in case_events(dispatcher)] == [first["id"]]
    app.extensions[LIVE_KEY].replay()  # what the bus calls when its subscription is back
    app.extensions[LIVE_KEY].replay()
    assert [e["case"]["id"] for e in case_events(dispatcher)] == [lost.case.id]
