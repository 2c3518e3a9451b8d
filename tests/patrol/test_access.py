"""Who sees where officers are: their own squad's leader and the centre; never other squads, officers or tokens."""
import datetime as dt

from dispatch.db import utcnow
from tests.patrol.conftest import cell_points
from webapp.extensions import socketio
from webapp.live import POSITIONS_KEY, PositionPush


def other_squad(squad: str) -> str:
    return "SQ01" if squad != "SQ01" else "SQ02"


def test_positions_api_is_for_the_own_leader_and_the_centre(member, sw_squad, platform, client, token) -> None:
    officer = member("officer", sw_squad, "patrol1")
    own_leader = member("squad_leader", sw_squad, "lead_own")
    other_leader = member("squad_leader", other_squad(sw_squad), "lead_other")
    colleague = member("officer", sw_squad, "patrol2")
    (_, lon, lat), = cell_points(platform, sw_squad, 1)
    officer.client.post("/api/patrol/start")
    officer.client.post("/api/patrol/positions", json={"positions": [{"at": utcnow().isoformat(), "lon": lon,
                                                                       "lat": lat}]})
    seen = own_leader.client.get("/api/patrol/officers").json
    assert [o["username"] for o in seen] == ["patrol1"] and abs(seen[0]["position"]["lon"] - lon) < 1e-6
    assert [o["username"] for o in client.get(f"/api/patrol/officers?squad={sw_squad}").json] == ["patrol1"]
    assert own_leader.client.get("/api/patrol/tracks/patrol1").json["patrols"][0]["coordinates"]
    assert client.get("/api/patrol/tracks/patrol1").status_code == 200
    bearer = {"Authorization": f"Bearer {token('hotline_12345', 'patrol')}"}
    for refused in (other_leader.client.get(f"/api/patrol/officers?squad={sw_squad}"),
                    other_leader.client.get("/api/patrol/tracks/patrol1"),
                    colleague.client.get("/api/patrol/officers"),
                    colleague.client.get("/api/patrol/tracks/patrol1"),
                    officer.client.get("/api/patrol/tracks/patrol1"),
                    client.application.test_client().get("/api/patrol/officers", headers=bearer),
                    client.application.test_client().get("/api/patrol/tracks/patrol1", headers=bearer),
                    client.application.test_client().post("/api/patrol/positions", headers=bearer, json={
                        "positions": [{"at": utcnow().isoformat(), "lon": lon, "lat": lat}]})):
        assert refused.status_code == 403, refused.json
    assert "patrol1" not in str(other_leader.client.get("/api/patrol/officers").json)  # their own squad: empty
    assert other_leader.client.get("/api/patrol/officers").json == []


def test_positions_are_pushed_only_to_the_own_leader_and_the_centre(app, member, sw_squad, platform, login) -> None:
    app.extensions[POSITIONS_KEY] = PositionPush(batch_s=60)  # nothing goes before the flush below: one list per room
    officer = member("officer", sw_squad, "patrol3")
    sockets = {
        "centre": socketio.test_client(app, flask_test_client=login("dispatcher")),
        "own_leader": socketio.test_client(app, flask_test_client=member("squad_leader", sw_squad, "lead3").client),
        "other_leader": socketio.test_client(app, flask_test_client=member(
            "squad_leader", other_squad(sw_squad), "lead4").client),
        "colleague": socketio.test_client(app, flask_test_client=member("officer", sw_squad, "patrol4").client),
        "officer": socketio.test_client(app, flask_test_client=officer.client),
    }
    assert all(socket.is_connected() for socket in sockets.values())
    assert not socketio.test_client(app, headers={"Authorization": "Bearer gp_nope"}).is_connected()
    (_, lon, lat), = cell_points(platform, sw_squad, 1)
    officer.client.post("/api/patrol/start")
    for seconds in (0, 15):
        officer.client.post("/api/patrol/positions", json={"positions": [
            {"at": (utcnow() + dt.timedelta(seconds=seconds)).isoformat(), "lon": lon + seconds * 1e-5, "lat": lat}]})
    assert all(socket.get_received() == [] for socket in sockets.values())  # waiting for the batch
    app.extensions[POSITIONS_KEY].flush()
    packets = {name: socket.get_received() for name, socket in sockets.items()}
    assert [len(packets[name]) for name in ("centre", "own_leader")] == [1, 1]  # one message per room
    got = {name: [m for packet in received if packet["name"] == "officer_positions" for m in packet["args"][0]]
           for name, received in packets.items()}
    for name in ("centre", "own_leader"):
        assert [m["kind"] for m in got[name]] == ["started", "position", "position"], name
        assert got[name][-1]["username"] == "patrol3" and abs(got[name][-1]["lon"] - (lon + 15e-5)) < 1e-6
    assert got["other_leader"] == got["colleague"] == got["officer"] == []


def test_with_no_batch_time_each_change_goes_at_once(app, member, sw_squad, login) -> None:
    app.extensions[POSITIONS_KEY] = PositionPush(batch_s=0)  # patrol.push_batch_s: 0
    centre = socketio.test_client(app, flask_test_client=login("dispatcher"))
    member("officer", sw_squad, "patrol5").client.post("/api/patrol/start")
    assert [(packet["name"], [m["kind"] for m in packet["args"][0]]) for packet in centre.get_received()] == [
        ("officer_positions", ["started"])]
