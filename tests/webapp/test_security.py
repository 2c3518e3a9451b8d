"""Issue 13, access and sessions: CSRF, throttled sign-in, revocable sessions, safe redirects, headers, uploads."""
import datetime as dt
import io
import logging
import re
import uuid
from dataclasses import replace

import pytest
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image
from sqlalchemy import select

from dispatch.account.enums import Role
from dispatch.account.service import create_user
from dispatch.case.models import Evidence
from tests.factories import DEMO_CENTRE_WGS84, ticket_payload
from tests.requirements import redis_available
from webapp import create_app
from webapp.platform import Platform

LON, LAT = DEMO_CENTRE_WGS84
PASSWORD = "pw-for-tests"
EVIL = "http://evil.example"


def new_user(platform: Platform, role: str = "dispatcher", squad: str | None = None) -> str:
    username = f"u{uuid.uuid4().hex[:10]}"
    with platform.sessions() as session:
        create_user(session=session, username=username, password=PASSWORD, role=Role(role), squad_code=squad)
        session.commit()
    return username


def sign_in(app: Flask, username: str, password: str = PASSWORD, **kwargs) -> FlaskClient:
    """A client signed in as `username`, sending the CSRF token the sign-in answered with."""
    client = app.test_client(**kwargs)
    response = client.post("/api/auth/login", json={"username": username, "password": password})
    assert response.status_code == 200, response.json
    client.environ_base["HTTP_X_CSRFTOKEN"] = response.json["csrf_token"]
    return client


def without_csrf(client: FlaskClient) -> FlaskClient:
    client.environ_base.pop("HTTP_X_CSRFTOKEN", None)
    return client


def session_cookie(client: FlaskClient) -> str:
    return client.get_cookie("session").value


def replayed(app: Flask, cookie: str) -> FlaskClient:
    """Another browser holding a copy of the session cookie."""
    other = app.test_client()
    other.set_cookie("session", cookie)
    return other


def new_case(client: FlaskClient) -> dict:
    response = client.post("/api/tickets", json=ticket_payload(lon=LON, lat=LAT))
    assert response.status_code == 201, response.json
    return response.json["case"]


# ---------------------------------------------------------------- 1. CSRF and the cookie's attributes

def test_a_signed_in_request_without_the_csrf_token_is_refused(app, client, platform) -> None:
    case = new_case(client)
    forged = without_csrf(app.test_client())
    forged.set_cookie("session", session_cookie(client))
    photo = io.BytesIO()
    Image.new("RGB", (8, 8)).save(photo, "PNG")
    upload = forged.post(f"/api/cases/{case['id']}/evidence", data={"photo": (io.BytesIO(photo.getvalue()), "a.png")},
                         content_type="multipart/form-data", headers={"Origin": "http://127.0.0.1:8080"})
    assert upload.status_code == 403 and "CSRF" in upload.json["message"]
    assert forged.post("/api/hotline/imports", headers={"Origin": EVIL}).status_code == 403
    assert forged.post("/api/auth/logout", headers={"Origin": EVIL}).status_code == 403
    assert forged.post("/api/auth/logout").status_code == 403  # a form post from anywhere: no token, no logout
    assert forged.get("/api/auth/me").status_code == 200  # still signed in
    with platform.sessions() as session:
        assert session.scalars(select(Evidence).where(Evidence.case_id == case["id"])).first() is None
    # The pages' own calls carry the token and pass.
    assert client.post(f"/api/cases/{case['id']}/evidence", data={"photo": (io.BytesIO(photo.getvalue()), "a.png")},
                       content_type="multipart/form-data").status_code == 201


def test_a_request_from_another_origin_is_refused_even_with_the_token(client) -> None:
    assert client.post("/api/auth/logout", headers={"Origin": EVIL}).status_code == 403
    assert client.get("/api/auth/me").status_code == 200
    assert client.post("/api/auth/logout", headers={"Origin": "http://localhost"}).status_code == 204


def test_signing_in_from_another_origin_is_refused(app, platform) -> None:
    username = new_user(platform)
    response = app.test_client().post("/api/auth/login", json={"username": username, "password": PASSWORD},
                                      headers={"Origin": EVIL})
    assert response.status_code == 403


def test_machine_tokens_need_no_csrf_token(app, token) -> None:
    bearer = {"Authorization": f"Bearer {token('hotline_12345')}"}
    response = app.test_client().post("/api/tickets", json=ticket_payload(lon=LON, lat=LAT), headers=bearer)
    assert response.status_code == 201, response.json


def test_the_session_cookie_is_samesite_lax_httponly_and_secure_over_https(app, platform) -> None:
    username = new_user(platform)
    for base_url, secure in (("http://localhost", False), ("https://localhost", True)):
        client = app.test_client()
        response = client.post("/api/auth/login", json={"username": username, "password": PASSWORD}, base_url=base_url)
        cookie = response.headers["Set-Cookie"]
        assert "SameSite=Lax" in cookie and "HttpOnly" in cookie
        assert ("Secure" in cookie) is secure, cookie


def test_the_secure_flag_follows_a_tls_proxy_when_told_to_trust_it(platform) -> None:
    security = platform.settings.security.model_copy(update={"proxy_hops": 1})
    platform.settings = platform.settings.model_copy(update={"security": security})
    app = create_app(platform=platform)
    username = new_user(platform)
    response = app.test_client().post("/api/auth/login", json={"username": username, "password": PASSWORD},
                                      headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "10.0.0.7"})
    assert "Secure" in response.headers["Set-Cookie"]


# ---------------------------------------------------------------- 2. sign-in throttling

@pytest.fixture
def throttled_app(platform: Platform) -> Flask:
    """The app with small sign-in limits: 3 failures per account, 6 per client address."""
    limits = platform.settings.security.login.model_copy(update={"per_account": "3 per 15 minutes",
                                                                 "per_address": "6 per 15 minutes"})
    security = platform.settings.security.model_copy(update={"login": limits})
    platform.settings = platform.settings.model_copy(update={"security": security})
    app = create_app(platform=platform)
    app.config["TESTING"] = True
    return app


def throttled_total(client: FlaskClient) -> float:
    text = client.get("/metrics").get_data(as_text=True)
    found = re.search(r"^gridpatrol_login_throttled_total (\S+)$", text, re.MULTILINE)
    assert found, text
    return float(found.group(1))


def test_wrong_passwords_lock_the_account_with_retry_after(throttled_app, platform, caplog) -> None:
    target, watcher = new_user(platform), sign_in(throttled_app, new_user(platform))
    before = throttled_total(watcher)
    stranger = throttled_app.test_client()
    for _ in range(3):
        assert stranger.post("/api/auth/login", json={"username": target, "password": "wrong-one"}).status_code == 401
    with caplog.at_level(logging.WARNING, logger="webapp.security"):
        locked = stranger.post("/api/auth/login", json={"username": target, "password": PASSWORD})
    assert locked.status_code == 429
    assert 0 < int(locked.headers["Retry-After"]) <= 15 * 60
    assert any(target in record.getMessage() for record in caplog.records)
    assert throttled_total(watcher) == before + 1
    # Another account from the same address is not locked by these failures (the address allows 6).
    other = new_user(platform)
    assert stranger.post("/api/auth/login", json={"username": other, "password": PASSWORD}).status_code == 200


def test_one_address_guessing_many_accounts_is_throttled(throttled_app, platform) -> None:
    stranger = throttled_app.test_client()
    for index in range(6):
        answer = stranger.post("/api/auth/login", json={"username": f"nobody{index}", "password": "wrong-one"})
        assert answer.status_code == 401
    response = stranger.post("/api/auth/login", json={"username": new_user(platform), "password": PASSWORD})
    assert response.status_code == 429 and int(response.headers["Retry-After"]) > 0


def test_two_processes_on_one_redis_share_the_count(platform, tmp_path) -> None:
    """With Redis, the count is shared: what one web process counted, the other enforces."""
    redis_url = redis_available()
    limits = platform.settings.security.login.model_copy(update={"per_account": "2 per 15 minutes"})
    security = platform.settings.security.model_copy(update={"login": limits})
    settings = platform.settings.model_copy(update={"security": security,
                                                    "redis": platform.settings.redis.model_copy(update={"url": redis_url})})
    first, second = (create_app(platform=replace(platform, settings=settings)) for _ in range(2))
    target = new_user(platform)
    for _ in range(2):
        assert first.test_client().post("/api/auth/login", json={"username": target, "password": "nope-nope"}
                                        ).status_code == 401
    response = second.test_client().post("/api/auth/login", json={"username": target, "password": PASSWORD})
    assert response.status_code == 429


# ---------------------------------------------------------------- 3. revocable sessions

def test_logout_ends_the_session_for_a_copied_cookie(app, platform) -> None:
    client = sign_in(app, new_user(platform))
    cookie = session_cookie(client)
    assert client.post("/api/auth/logout").status_code == 204
    assert replayed(app, cookie).get("/api/auth/me").status_code == 401


def test_a_password_change_signs_out_other_browsers(app, platform) -> None:
    username = new_user(platform)
    here, elsewhere = sign_in(app, username), sign_in(app, username)
    short = here.post("/api/auth/password", json={"current_password": PASSWORD, "new_password": "short"})
    assert short.status_code == 422 and "new_password" in str(short.json)
    wrong = here.post("/api/auth/password", json={"current_password": "not-it-at-all", "new_password": "a-new-secret"})
    assert wrong.status_code == 403
    assert here.post("/api/auth/password", json={"current_password": PASSWORD,
                                                  "new_password": "a-new-secret"}).status_code == 204
    assert elsewhere.get("/api/auth/me").status_code == 401
    assert here.get("/api/auth/me").status_code == 200  # who changed it stays signed in
    assert app.test_client().post("/api/auth/login", json={"username": username, "password": PASSWORD}
                                  ).status_code == 401
    sign_in(app, username, "a-new-secret")


def test_an_admin_signs_a_person_out_everywhere(app, platform) -> None:
    username = new_user(platform, "officer", "SQ01")
    officer = sign_in(app, username)
    dispatcher = sign_in(app, new_user(platform))
    assert dispatcher.post(f"/api/auth/users/{username}/sign-out").status_code == 403
    admin = sign_in(app, new_user(platform, "admin"))
    assert admin.post("/api/auth/users/nobody-here/sign-out").status_code == 404
    assert admin.post(f"/api/auth/users/{username}/sign-out").status_code == 204
    assert officer.get("/api/auth/me").status_code == 401
    sign_in(app, username)  # signing in again works


@pytest.mark.parametrize("key, age", [("signed_in_at", dt.timedelta(hours=12, minutes=1)),
                                      ("seen_at", dt.timedelta(hours=2, minutes=1))])
def test_sessions_end_after_the_absolute_lifetime_and_when_idle(app, platform, key, age) -> None:
    client = sign_in(app, new_user(platform))
    with client.session_transaction() as session:
        session[key] = (dt.datetime.now(dt.timezone.utc) - age).timestamp()
    assert client.get("/api/auth/me").status_code == 401


def test_a_request_keeps_an_active_session_alive(app, platform) -> None:
    client = sign_in(app, new_user(platform))
    with client.session_transaction() as session:
        session["seen_at"] = (dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=1, minutes=50)).timestamp()
    assert client.get("/api/auth/me").status_code == 200
    with client.session_transaction() as session:
        assert dt.datetime.now(dt.timezone.utc).timestamp() - session["seen_at"] < 60


# ---------------------------------------------------------------- 4. no open redirect after sign-in

@pytest.mark.parametrize("target", ["/%5Cevil.example/phish", "//evil.example", "https://evil.example/",
                                    "/%09/evil.example", "javascript:alert(1)", "/\\/evil.example", "evil.example"])
def test_the_sign_in_page_goes_nowhere_but_this_site(app, target) -> None:
    page = app.test_client().get(f"/login?next={target}").get_data(as_text=True)
    assert 'data-next="/"' in page, target


def test_the_sign_in_page_keeps_a_path_of_this_site(app) -> None:
    page = app.test_client().get("/login?next=/map%3Fsquad%3D41150201").get_data(as_text=True)
    assert 'data-next="/map?squad=41150201"' in page


# ---------------------------------------------------------------- 5. no username enumeration by timing

def test_an_unknown_username_costs_a_password_check_too(app, platform, monkeypatch) -> None:
    import dispatch.account.service as service

    checked: list[str] = []
    real_check = service.check_password_hash
    monkeypatch.setattr(service, "check_password_hash",
                        lambda stored, given: checked.append(stored) or real_check(stored, given))
    known = new_user(platform)
    client = app.test_client()
    assert client.post("/api/auth/login", json={"username": known, "password": "wrong-one"}).status_code == 401
    assert client.post("/api/auth/login", json={"username": "no-such-person", "password": "x"}).status_code == 401
    assert len(checked) == 2
    method = lambda stored: stored.split("$", 1)[0]  # e.g. scrypt:32768:8:1 - the same work for both
    assert method(checked[0]) == method(checked[1])


# ---------------------------------------------------------------- 8. headers, uploads, evidence URIs

def test_every_answer_carries_the_security_headers(client) -> None:
    for url in ("/login", "/console", "/api/auth/me"):
        headers = client.get(url).headers
        policy = dict(part.strip().split(" ", 1) for part in headers["Content-Security-Policy"].split(";") if part.strip())
        assert policy["script-src"] == "'self'", url
        assert policy["frame-ancestors"] == "'none'" and policy["object-src"] == "'none'"
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "same-origin"
        assert headers["X-Frame-Options"] == "DENY"


def test_the_pages_have_no_inline_script(client, login) -> None:
    pages = {"/login": client, "/console": client, "/map": client, "/stats": client,
             "/tasks": login("officer", "SQ01")}
    for url, who in pages.items():
        html = who.get(url).get_data(as_text=True)
        tags = re.findall(r"<script([^>]*)>", html)
        assert tags, url
        for attributes in tags:
            assert "src=" in attributes or 'type="application/json"' in attributes, (url, attributes)
        assert not re.search(r"\son\w+=", html), url  # no inline event handlers either


def blank_png(side: int) -> bytes:
    """A side x side one-bit PNG: a few KB on the wire whatever its pixel count once decoded."""
    data = io.BytesIO()
    Image.new("1", (side, side)).save(data, "PNG", optimize=True)
    return data.getvalue()


@pytest.mark.parametrize("side, said", [(20000, "pixels"), (8000, "8000x8000")])
def test_a_decompression_bomb_photo_is_refused_not_a_500(client, side, said) -> None:
    """20000x20000 (400 Mpx, some 50 KB): Pillow itself refuses to open it; 8000x8000 (64 Mpx) is over our limit."""
    case = new_case(client)
    bomb = blank_png(side)
    assert len(bomb) < 100_000
    response = client.post(f"/api/cases/{case['id']}/evidence", data={"photo": (io.BytesIO(bomb), "bomb.png")},
                           content_type="multipart/form-data")
    assert response.status_code == 422, response.json
    assert "photo" in response.json["errors"]["json"] and said in response.json["message"]


@pytest.mark.parametrize("uri", ["javascript:alert(1)", "evidence/../demo-credentials.json", "file:///etc/passwd",
                                 "http:/no-host", "evidence/ticket-1/../../x.jpg", "data:image/png;base64,AAAA"])
def test_evidence_uris_from_clients_must_be_web_urls_or_ours(app, token, uri) -> None:
    bearer = {"Authorization": f"Bearer {token('camera')}"}
    payload = ticket_payload(lon=LON, lat=LAT, source="camera", evidence=[{"uri": uri}])
    response = app.test_client().post("/api/tickets", json=payload, headers=bearer)
    assert response.status_code == 422, (uri, response.json)
    assert "evidence" in str(response.json["errors"]), response.json


@pytest.mark.parametrize("uri", ["https://nvr.example.gov.cn/snap/1.jpg", "http://10.1.2.3:8080/a.jpg",
                                 f"evidence/ticket-12/{uuid.uuid4().hex}.jpg"])
def test_web_urls_and_our_evidence_ids_are_accepted(app, token, uri) -> None:
    bearer = {"Authorization": f"Bearer {token('camera')}"}
    payload = ticket_payload(lon=LON, lat=LAT, source="camera", evidence=[{"uri": uri}])
    response = app.test_client().post("/api/tickets", json=payload, headers=bearer)
    assert response.status_code == 201, (uri, response.json)
