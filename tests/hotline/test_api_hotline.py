"""Work orders through the API: signed push, file upload with a report, candidates, outbox, 回访 and reopen."""
import csv
import io
import json
import time

import pytest
from openpyxl import Workbook
from sqlalchemy import select

from dispatch.hotline.models import HotlineReply
from dispatch.ticket.models import Ticket
from tests.hotline.conftest import CLOSE_LOOP, SECRET, push, run_loop, signed
from webapp.tasks import import_runner


def order(number: str, **extra) -> dict:
    return {"工单编号": number, "来电时间": "2026-11-20 09:30:00", "诉求人": "王先生", "联系电话": "13900002222",
            "诉求内容": "门口有流动摊贩占道经营", "诉求地址": "浉河区新华路十二号", "诉求类型": "城管执法", **extra}


def test_a_signed_work_order_becomes_a_located_case(hotline_client, hotline_platform) -> None:
    response = push(hotline_client, order("GD-1"))
    assert response.status_code == 201, response.json
    row = response.json["rows"][0]
    assert row["outcome"] == "created" and row["external_id"] == "GD-1"
    with hotline_platform.sessions() as session:
        ticket = session.get(Ticket, row["ticket_id"])
        assert ticket.source == "hotline_12345" and ticket.category == "0501"  # 城管执法 is too coarse: rules
        assert ticket.raw["诉求地址"] == "浉河区新华路十二号"  # the payload as received
        assert ticket.case.cell_code.startswith("411502") and ticket.lon is not None
    again = push(hotline_client, order("GD-1"))
    assert again.json["rows"][0]["outcome"] == "duplicate" and again.json["rows"][0]["ticket_id"] == row["ticket_id"]


@pytest.mark.parametrize("secret", ["wrong-secret", None])
def test_a_bad_or_missing_signature_is_refused(hotline_client, hotline_platform, secret) -> None:
    if secret is None:
        response = hotline_client.post("/api/hotline/work-orders/12345", json=order("GD-2"))
    else:
        response = push(hotline_client, order("GD-2"), secret=secret)
    assert response.status_code == 401
    with hotline_platform.sessions() as session:
        assert session.scalars(select(Ticket).where(Ticket.external_id == "GD-2")).first() is None


def test_a_signature_covers_the_profile_in_the_path(hotline_client, hotline_platform) -> None:
    body = json.dumps(order("GD-20"), ensure_ascii=False).encode()
    headers = signed(body, "/api/hotline/work-orders/12345")
    response = hotline_client.post("/api/hotline/work-orders/12319", data=body, headers=headers)
    assert response.status_code == 401
    with hotline_platform.sessions() as session:
        assert session.scalars(select(Ticket).where(Ticket.external_id == "GD-20")).first() is None


@pytest.mark.parametrize("age_s", [301, -301])
def test_a_signature_outside_the_window_is_refused(hotline_client, hotline_platform, age_s) -> None:
    path, body = "/api/hotline/work-orders/12345", json.dumps(order("GD-21"), ensure_ascii=False).encode()
    response = hotline_client.post(path, data=body, headers=signed(body, path, timestamp=int(time.time()) - age_s))
    assert response.status_code == 401 and "X-Hotline-Timestamp" in response.json["message"]
    fresh = hotline_client.post(path, data=body, headers=signed(body, path, timestamp=int(time.time()) - 250))
    assert fresh.status_code == 201


def test_a_replayed_push_is_refused_by_every_process(sqlite_app) -> None:
    """Two apps on one database stand for two web processes: what one took, the other refuses."""
    first, second = (sqlite_app(hotline={"secret": SECRET}) for _ in range(2))
    path, body = "/api/hotline/work-orders/12345", json.dumps(order("GD-22"), ensure_ascii=False).encode()
    headers = signed(body, path)
    assert first.test_client().post(path, data=body, headers=headers).status_code == 201
    for app in (first, second):
        again = app.test_client().post(path, data=body, headers=headers)
        assert again.status_code == 401 and "replay" in again.json["message"]


def test_an_unsure_address_waits_with_candidates(hotline_client, hotline_platform) -> None:
    response = push(hotline_client, order("GD-3", 诉求地址="新华路"))
    row = response.json["rows"][0]
    assert row["outcome"] == "unlocated" and "candidate" in row["reason"]
    candidates = hotline_client.get(f"/api/hotline/tickets/{row['ticket_id']}/candidates").json
    assert len(candidates) == 5 and all("新华路" in c["address"] for c in candidates)
    best = candidates[0]
    located = hotline_client.post(f"/api/tickets/{row['ticket_id']}/locate",
                                  json={"location": {"lon": best["lon"], "lat": best["lat"], "crs": "wgs84"}})
    assert located.status_code == 200 and located.json["outcome"] == "created"


def xlsx_bytes(rows: list[dict]) -> bytes:
    book = Workbook()
    sheet = book.active
    header = list(rows[0])
    sheet.append(header)
    for row in rows:
        sheet.append([row.get(column) for column in header])
    data = io.BytesIO()
    book.save(data)
    return data.getvalue()


def upload_and_wait(client, app, data: bytes, filename: str) -> dict:
    """Upload a file (202 with a job), wait for this process's import jobs, and return the job as the API shows it."""
    response = client.post("/api/hotline/imports", data={"profile": "12345", "file": (io.BytesIO(data), filename)},
                           content_type="multipart/form-data")
    assert response.status_code == 202, response.json
    assert response.headers["Location"].endswith(f"/api/hotline/imports/{response.json['id']}")
    import_runner(app).wait(120)
    return client.get(f"/api/hotline/imports/{response.json['id']}").json


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_an_upload_reports_every_row_and_a_bad_row_stops_nothing(hotline_client, hotline_platform, app, kind) -> None:
    rows = [order("UP-1"), order("UP-2", 诉求内容="咨询社保", 诉求类型="其他"), order("UP-3", 诉求地址="民权路一号"),
            order("UP-4", 联系电话="not a phone"), order("UP-1")]
    if kind == "csv":
        text = io.StringIO()
        text.write(",".join(rows[0]) + "\n")
        for row in rows:
            text.write(",".join(row[column] for column in rows[0]) + "\n")
        data = text.getvalue().encode("utf-8")
    else:
        data = xlsx_bytes(rows)
    job = upload_and_wait(hotline_client, app, data, f"orders.{kind}")
    assert (job["status"], job["done"], job["total"]) == ("done", 5, 5)
    report = hotline_client.get(f"/api/hotline/imports/{job['id']}/report.csv")
    assert report.status_code == 200 and report.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(report.get_data(as_text=True).lstrip("\ufeff"))))
    outcomes = [(r["external_id"], r["outcome"]) for r in rows]
    assert outcomes == [("UP-1", "created"), ("UP-2", "refused"), ("UP-3", "created"), ("UP-4", "refused"),
                        ("UP-1", "duplicate")]
    reasons = [r["reason"] for r in rows]
    assert "其他" in reasons[1] and "phone" in reasons[3]
    assert job["summary"]["outcomes"] == {"created": 2, "refused": 2, "duplicate": 1}
    with hotline_platform.sessions() as session:
        kept = set(session.scalars(select(Ticket.external_id).where(Ticket.external_id.like("UP-%"))))
    assert kept == {"UP-1", "UP-3"}


def test_closure_queues_one_reply_and_dissatisfaction_allows_rework(hotline_client, hotline_platform) -> None:
    row = push(hotline_client, order("GD-5")).json["rows"][0]
    merged = push(hotline_client, order("GD-6")).json["rows"][0]
    assert merged["outcome"] == "merged" and merged["case_id"] == row["case_id"]
    case_id = row["case_id"]
    assert hotline_client.post(f"/api/hotline/cases/{case_id}/rating", json={"rating": "satisfied"}).status_code == 422
    run_loop(hotline_platform, case_id)
    outbox = hotline_client.get("/api/hotline/replies?status=pending").json
    assert sorted(r["payload"]["external_id"] for r in outbox) == ["GD-5", "GD-6"]  # both work orders get answers
    reopen = {"action": "reopen", "reason": "群众不满意：摊贩又回来了"}
    refused = hotline_client.post(f"/api/cases/{case_id}/transitions", json=reopen)
    assert refused.status_code == 422  # not rated dissatisfied
    rated = hotline_client.post(f"/api/hotline/cases/{case_id}/rating", json={"rating": "dissatisfied", "note": "又来了"})
    assert rated.status_code == 201
    no_reason = hotline_client.post(f"/api/cases/{case_id}/transitions", json={"action": "reopen"})
    assert no_reason.status_code == 422
    reopened = hotline_client.post(f"/api/cases/{case_id}/transitions", json=reopen)
    assert reopened.status_code == 200, reopened.json
    assert reopened.json["status"] == "dispatched" and reopened.json["rework_count"] == 1
    assert reopened.json["timeline"][-1]["kind"] == "reopened"
    run_loop(hotline_platform, case_id, steps=CLOSE_LOOP[2:])  # from accept: the reopened case is dispatched
    with hotline_platform.sessions() as session:
        keys = session.scalars(select(HotlineReply.idempotency_key).where(HotlineReply.case_id == case_id)).all()
    assert len(keys) == len(set(keys)) == 4  # two closures × two work orders


def test_squads_may_not_reopen_and_stats_count_satisfaction(hotline_client, hotline_platform, login) -> None:
    case_id = push(hotline_client, order("GD-7")).json["rows"][0]["case_id"]
    run_loop(hotline_platform, case_id)
    hotline_client.post(f"/api/hotline/cases/{case_id}/rating", json={"rating": "basically_satisfied"})
    hotline_client.post(f"/api/hotline/cases/{case_id}/rating", json={"rating": "dissatisfied"})
    squad = hotline_client.get(f"/api/cases/{case_id}").json["squad_code"]
    officer = login("squad_leader", squad)
    response = officer.post(f"/api/cases/{case_id}/transitions", json={"action": "reopen", "reason": "不满意"})
    assert response.status_code == 403
    assert officer.post(f"/api/hotline/cases/{case_id}/rating", json={"rating": "satisfied"}).status_code == 403
    stats = {row["squad_code"]: row for row in hotline_client.get("/api/stats/squads").json}[squad]
    # The newest rating counts.
    assert (stats["rated"], stats["dissatisfied"], stats["satisfaction_rate"]) == (1, 1, 0.0)
    assert json.dumps(stats)  # plain JSON
