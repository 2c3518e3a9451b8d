"""The positions benchmark's sessions are the platform's own: a cookie made with the secret key signs an officer in."""
from bench.positions import session_cookies
from dispatch.account.enums import Role
from dispatch.account.service import create_user


def test_a_made_session_starts_a_patrol_and_needs_its_csrf_token(app, platform, sw_squad) -> None:
    with platform.sessions() as session:
        user = create_user(session=session, username="bench1", password="pw-for-tests", role=Role.OFFICER,
                           squad_code=sw_squad)
        session.commit()
        user_id = user.id
    cookie, csrf = session_cookies(app.config["SECRET_KEY"], [user_id])[user_id]
    client = app.test_client()
    client.set_cookie("session", cookie.removeprefix("session="))  # as the bench's Cookie header sends it
    assert client.post("/api/patrol/start").status_code == 403  # no CSRF token
    started = client.post("/api/patrol/start", headers={"X-CSRFToken": csrf})
    assert started.status_code == 200 and started.json["patrol"]["id"]
    stranger = app.test_client()
    stranger.set_cookie("session", session_cookies("another key", [user_id])[user_id][0].removeprefix("session="))
    assert stranger.get("/api/patrol/me").status_code == 401
