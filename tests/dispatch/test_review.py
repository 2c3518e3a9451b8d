"""Review checks (案卷评查): on seeded cases, each planted defect is found and nothing else."""
import datetime as dt
import io
from dataclasses import replace

import pytest
from PIL import Image

from dispatch.account.enums import Role
from dispatch.case.enums import CaseAction, EventKind
from dispatch.case.events import commit_and_publish, record_event
from dispatch.case.service import flag_overdue, get_case
from dispatch.case.signoff import SignoffRules
from dispatch.case.transitions import transition
from dispatch.db import utcnow
from grid.geodesy import offset_m
from tests.factories import DEMO_CENTRE_WGS84, ticket_payload
from webapp import create_app

RULES = SignoffRules(signer_roles=frozenset({Role.ADMIN}), steps={"*": frozenset({"close"})})


@pytest.fixture
def app(platform):
    app = create_app(platform=replace(platform, ctx=replace(platform.ctx, signoffs=RULES)))
    app.config["TESTING"] = True
    return app


def photo() -> tuple:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (30, 120, 60)).save(buffer, "JPEG")
    buffer.seek(0)
    return buffer, "site.jpg"


@pytest.fixture
def seed(client, login, app):
    """seed(n, photo=, result=, basis=, close=): a case at its own spot run to verified (and closed, signed off)."""
    admin, places = login("admin"), iter(range(1, 100))

    def make(*, with_photo: bool = True, result: str = "persuaded", basis: str | None = None,
             close: str | None = "signed") -> int:
        lon, lat = offset_m(*DEMO_CENTRE_WGS84, 60 * next(places) - 300, 0)  # 60 m apart: no merges
        case = client.post("/api/tickets", json=ticket_payload(lon=lon, lat=lat, category="0504")).json["case"]
        leader = login("squad_leader", case["squad_code"])
        url = f"/api/cases/{case['id']}"
        for who, action in ((client, "register"), (client, "dispatch"), (leader, "accept")):
            assert who.post(url + "/transitions", json={"action": action}).status_code == 200
        if with_photo:
            assert leader.post(url + "/evidence", data={"photo": photo()}, content_type="multipart/form-data").status_code == 201
        body = {"action": "handle", "result": result, **({"basis": basis} if basis else {})}
        assert leader.post(url + "/transitions", json=body).status_code == 200
        assert client.post(url + "/transitions", json={"action": "verify"}).status_code == 200
        if close == "signed":
            assert admin.post(url + "/signoffs", json={"step": "close", "opinion": "同意结案"}).status_code == 201
            assert client.post(url + "/transitions", json={"action": "close"}).status_code == 200
        return case["id"]

    return make


def test_each_planted_defect_is_found_and_nothing_else(client, seed, platform, app) -> None:
    clean = seed()
    clean_penalty = seed(result="simple_penalty", basis="CSRHJWS-36-1")
    # The platform itself refuses most results without an on-site photo (config/categories.yaml); "not found" is
    # exempt there, and a reviewer still flags it.
    no_photo = seed(with_photo=False, result="not_found")
    no_basis = seed(result="simple_penalty")
    wrong_basis = seed(result="general_procedure", basis="第36条")
    unsigned = seed(close=None)
    empty_opinion = seed(close=None)
    late = client.post("/api/tickets", json=ticket_payload(lon=DEMO_CENTRE_WGS84[0], lat=DEMO_CENTRE_WGS84[1] + 0.002,
                                                           category="0504")).json["case"]["id"]
    assert client.post(f"/api/cases/{late}/transitions", json={"action": "register"}).status_code == 200
    ctx = platform.ctx
    with platform.sessions() as session:
        # Behind the sign-off rule: a platform-side close (no rules passed) and a sign-off with an empty opinion.
        case = get_case(session=session, case_id=unsigned, for_update=True)
        transition(session=session, case=case, action=CaseAction.CLOSE, actor="system", now=utcnow(),
                   calendar=ctx.calendar, categories=ctx.categories)
        case = get_case(session=session, case_id=empty_opinion, for_update=True)
        record_event(session=session, case=case, kind=EventKind.SIGNED_OFF, actor="admin", at=utcnow(), note=" ",
                     data={"step": "close", "role": "admin"})
        transition(session=session, case=case, action=CaseAction.CLOSE, actor="system", now=utcnow(),
                   calendar=ctx.calendar, categories=ctx.categories, signoffs=RULES)
        flagged = flag_overdue(session=session, now=utcnow() + dt.timedelta(days=30))
        assert [c.id for c in flagged] == [late]
        commit_and_publish(session, platform.bus)
    ids = [clean, clean_penalty, no_photo, no_basis, wrong_basis, unsigned, empty_opinion, late]
    report = client.get("/api/cases/review?" + "&".join(f"ids={i}" for i in ids))
    assert report.status_code == 200, report.json
    found = {row["case_id"]: sorted(flag["flag"] for flag in row["flags"]) for row in report.json["cases"]}
    assert found == {
        no_photo: ["no_photo"], no_basis: ["no_legal_basis"], wrong_basis: ["no_legal_basis"],
        unsigned: ["signoff_missing"], empty_opinion: ["opinion_empty"], late: ["deadline_exceeded"],
    }
    squads = report.json["squads"]
    assert sum(row["cases"] for row in squads) == len(ids) and sum(row["flags"] for row in squads) == 6
    assert [row["rank"] for row in squads] == list(range(1, len(squads) + 1))
    detail = client.get(f"/api/cases/{no_photo}").json
    assert [flag["flag"] for flag in detail["review_flags"]] == ["no_photo"]


def test_squad_members_may_not_read_the_review(login) -> None:
    assert login("officer", "SQ01").get("/api/cases/review").status_code == 403
