"""Sign-off (签批): a marked step waits for a named approver's opinion, given in the platform."""
from dataclasses import replace

import pytest

from dispatch.account.enums import Role
from dispatch.case.signoff import SignoffRules
from tests.factories import DEMO_CENTRE_WGS84, site_photo_form, ticket_payload
from webapp import create_app

LON, LAT = DEMO_CENTRE_WGS84
RULES = SignoffRules(signer_roles=frozenset({Role.ADMIN}),
                     steps={"*": frozenset({"close"}), "0501": frozenset({"handle:simple_penalty"})})


@pytest.fixture
def app(platform):
    """The app of a city that marks close (every category) and a penalty result (0501) for sign-off."""
    app = create_app(platform=replace(platform, ctx=replace(platform.ctx, signoffs=RULES)))
    app.config["TESTING"] = True
    return app


def act(client, case_id: int, action: str, **body):
    return client.post(f"/api/cases/{case_id}/transitions", json={"action": action, **body})


def test_marked_steps_wait_for_the_approvers_opinion(client, login) -> None:
    case = client.post("/api/tickets", json=ticket_payload(lon=LON, lat=LAT)).json["case"]
    leader, admin = login("squad_leader", case["squad_code"]), login("admin")
    for who, action in ((client, "register"), (client, "dispatch"), (leader, "accept")):
        assert act(who, case["id"], action).status_code == 200
    refused = act(leader, case["id"], "handle", result="simple_penalty")
    assert refused.status_code == 409
    assert refused.json["key"] == "signoff_required" and refused.json["step"] == "handle:simple_penalty"

    signoffs = f"/api/cases/{case['id']}/signoffs"
    assert client.post(signoffs, json={"step": "handle:simple_penalty", "opinion": "同意"}).status_code == 403
    no_opinion = admin.post(signoffs, json={"step": "handle:simple_penalty", "opinion": "  "})
    assert no_opinion.status_code == 422 and "opinion" in no_opinion.json["errors"]["json"]
    unmarked = admin.post(signoffs, json={"step": "verify", "opinion": "同意"})
    assert unmarked.status_code == 422 and "step" in unmarked.json["errors"]["json"]
    signed = admin.post(signoffs, json={"step": "handle:simple_penalty", "opinion": "同意按简易程序处罚"})
    assert signed.status_code == 201
    entry = signed.json["timeline"][-1]
    assert entry["kind"] == "signed_off" and entry["actor"].startswith("admin") and entry["note"] == "同意按简易程序处罚"
    assert entry["data"] == {"step": "handle:simple_penalty", "role": "admin"}

    uploaded = leader.post(f"/api/cases/{case['id']}/evidence", data=site_photo_form(), content_type="multipart/form-data")
    assert uploaded.status_code == 201, uploaded.json  # the report needs a photo taken on site (categories.yaml)
    assert act(leader, case["id"], "handle", result="simple_penalty").status_code == 200
    assert act(client, case["id"], "verify").status_code == 200
    assert act(client, case["id"], "close").json["key"] == "signoff_required"
    state = {s["step"]: s for s in client.get(f"/api/cases/{case['id']}").json["signoffs"]}
    assert state["close"]["signed_by"] is None and state["handle:simple_penalty"]["signed_by"] is None  # new stage
    assert admin.post(signoffs, json={"step": "close", "opinion": "同意结案"}).status_code == 201
    closed = act(client, case["id"], "close")
    assert closed.status_code == 200 and closed.json["status"] == "closed"
    kinds = [e["kind"] for e in closed.json["timeline"]]
    assert kinds[-3:] == ["verified", "signed_off", "closed"]


def test_rules_file_names_an_unknown_step(tmp_path) -> None:
    path = tmp_path / "signoff.yaml"
    path.write_text("signer_roles: [admin]\nsteps:\n  '0501': [close, fly]\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"steps.0501: unknown step\(s\) \['fly'\]"):
        SignoffRules.from_yaml(path)
