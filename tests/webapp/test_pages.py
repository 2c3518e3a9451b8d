"""Pages: who may open which, both languages, strangers to sign-in, vendor files from node_modules only."""
import re
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from webapp.i18n import MESSAGES
from webapp.pages import NODE_MODULES_KEY, VENDOR_FILES

# Pages read little of the store: SQLite is enough (the API tests cover PostgreSQL).
sqlite_only = pytest.mark.parametrize("platform", ["sqlite"], indirect=True)

PAGES = ["/console", "/map", "/stats", "/tasks", "/roster"]
# role → the pages it may open; squad members are bound to SQ01.
MAY_OPEN = {
    "admin": {"/console", "/map", "/stats", "/tasks", "/roster"},
    "dispatcher": {"/console", "/map", "/stats", "/roster"},
    "squad_leader": {"/map", "/stats", "/tasks", "/roster"},
    "officer": {"/map", "/stats", "/tasks"},
}
HOME = {"admin": "/console", "dispatcher": "/console", "squad_leader": "/map", "officer": "/tasks"}
# A word each page shows in each language (the nav alone would not prove the page's own body).
PAGE_WORD = {
    "/console": "console.locate", "/map": "nav.map", "/stats": "stats.ranking", "/tasks": "tasks.title",
    "/roster": "roster.title",
}


def signed_in(login, role: str) -> FlaskClient:
    return login(role, "SQ01" if role in ("squad_leader", "officer") else None)


@sqlite_only
@pytest.mark.parametrize("path", PAGES + ["/"])
def test_strangers_go_to_sign_in(app, path: str) -> None:
    response = app.test_client().get(path)
    assert response.status_code == 302
    assert response.location.startswith("/login")
    if path != "/":
        assert f"next={path}" in response.location.replace("%2F", "/")


@sqlite_only
@pytest.mark.parametrize("role", list(MAY_OPEN))
def test_each_role_opens_its_pages_only(login, role: str) -> None:
    client = signed_in(login, role)
    assert client.get("/").location == HOME[role]
    for path in PAGES:
        response = client.get(path)
        expected = 200 if path in MAY_OPEN[role] else 403
        assert response.status_code == expected, (role, path)
        if expected == 403:
            assert MESSAGES["zh-CN"]["error.forbidden"] in response.text


@sqlite_only
@pytest.mark.parametrize("lang", ["zh-CN", "en"])
@pytest.mark.parametrize("path", PAGES)
def test_pages_render_in_both_languages(login, path: str, lang: str) -> None:
    client = login("admin")
    response = client.get(f"{path}?lang={lang}")
    assert response.status_code == 200
    html = response.text
    assert f'<html lang="{lang}">' in html
    assert MESSAGES[lang][PAGE_WORD[path]] in html
    other = "en" if lang == "zh-CN" else "zh-CN"
    assert MESSAGES[other]["nav.language"] not in html.split('id="gp-boot"')[0]  # the switch names the other language
    boot = re.search(r'<script id="gp-boot" type="application/json">(.*?)</script>', html, re.S)
    assert boot and f'"lang": "{lang}"' in boot.group(1)  # the page scripts get the same table
    # The choice sticks: the next page without ?lang= keeps it.
    assert f'<html lang="{lang}">' in client.get(path).text


@sqlite_only
def test_default_language_comes_from_settings(login) -> None:
    assert '<html lang="zh-CN">' in login("dispatcher").get("/console").text
    assert "调度台" in login("dispatcher").get("/console").text


@sqlite_only
def test_sign_in_page_in_both_languages(app) -> None:
    client = app.test_client()
    assert "登录" in client.get("/login").text
    assert "Sign in" in client.get("/login?lang=en").text
    # Only local paths are followed after signing in: no open redirect.
    assert 'data-next="/"' in client.get("/login?next=//evil.example/x").text
    assert 'data-next="/map?squad=SQ01"' in client.get("/login?next=/map?squad=SQ01").text


@sqlite_only
def test_squad_members_cannot_open_another_squads_view(login) -> None:
    leader = login("squad_leader", "SQ01")
    assert leader.get("/map?squad=SQ01").status_code == 200
    assert leader.get("/map?squad=SQ02").status_code == 403
    assert login("officer", "SQ01").get("/tasks?squad=SQ03").status_code == 403
    assert login("dispatcher").get("/map?squad=SQ02").status_code == 200  # the centre picks any squad


@sqlite_only
def test_boot_data_carries_the_viewers_squad(login) -> None:
    html = login("squad_leader", "SQ02").get("/map").text
    assert '"squad": "SQ02"' in html and '"role": "squad_leader"' in html


@sqlite_only
@pytest.mark.parametrize("path", PAGES)
def test_no_page_loads_anything_from_the_internet(login, path: str) -> None:
    html = login("admin").get(path).text
    sources = re.findall(r'<(?:script|link|img)\b[^>]*\b(?:src|href)="([^"]*)"', html)
    assert sources, "the page loads its scripts and styles"
    assert not [s for s in sources if re.match(r"(https?:)?//", s)], sources
    assert "http://" not in html and "https://" not in html


@sqlite_only
def test_static_scripts_load_nothing_from_the_internet(app) -> None:
    client = app.test_client()
    for name in ["gp.js", "console.js", "map.js", "stats.js", "tasks.js", "login.js"]:
        response = client.get(f"/static/js/{name}")
        assert response.status_code == 200, name
        assert not re.search(r"https?://", response.text), name
        response.close()
    css = client.get("/static/css/app.css")
    assert css.status_code == 200 and "url(http" not in css.text
    css.close()


@sqlite_only
@pytest.mark.parametrize("name", sorted(VENDOR_FILES))
def test_vendor_serves_whitelisted_files(app, name: str) -> None:
    response = app.test_client().get(f"/vendor/{name}")
    assert response.status_code == 200
    assert len(response.data) > 100
    response.close()


@pytest.mark.parametrize("name", [
    "leaflet/package.json", "leaflet/dist/leaflet.js", "../package.json", "..%2Fpackage.json",
    "echarts/dist/echarts.js", "socket.io-client/package.json", "leaflet/../../requirements.txt", "",
])
@sqlite_only
def test_vendor_refuses_everything_else(app, name: str) -> None:
    assert app.test_client().get(f"/vendor/{name}").status_code == 404


@sqlite_only
def test_vendor_explains_missing_node_modules(app, tmp_path) -> None:
    app.config[NODE_MODULES_KEY] = str(tmp_path / "node_modules")
    response = app.test_client().get("/vendor/leaflet/leaflet.js")
    assert response.status_code == 500
    assert "npm ci" in response.text and "make run" in response.text
    assert "leaflet/dist/leaflet.js" in response.text


def test_both_languages_have_the_same_words() -> None:
    assert set(MESSAGES["zh-CN"]) == set(MESSAGES["en"])
    assert all(text.strip() for table in MESSAGES.values() for text in table.values())


def test_every_word_the_pages_ask_for_exists() -> None:
    """Literal keys in templates and scripts, and the keys built from the domain's enums at run time."""
    from dispatch.account.enums import Role
    from dispatch.case.enums import CaseAction, CaseStatus, EventKind, HandlingResult, ReviewReason, ReviewStatus
    from dispatch.ticket.enums import TicketSource

    root = Path(__file__).resolve().parents[2] / "webapp"
    used = set()
    for path in (root / "templates").glob("*.html"):
        used |= set(re.findall(r"""\bt\(["']([a-z_]+\.[a-z_0-9]+)["']""", path.read_text(encoding="utf-8")))
    for path in (root / "static" / "js").glob("*.js"):
        used |= set(re.findall(r"""GP\.t\(["']([a-z_]+\.[a-z_0-9]+)["']""", path.read_text(encoding="utf-8")))
    assert len(used) > 50
    from dispatch.hotline.enums import Satisfaction

    for prefix, enum in [("status", CaseStatus), ("action", CaseAction), ("result", HandlingResult),
                         ("event", EventKind), ("source", TicketSource), ("role", Role),
                         ("source_short", TicketSource), ("rating", Satisfaction),
                         ("review", ReviewStatus), ("reason", ReviewReason)]:
        used |= {f"{prefix}.{member.value}" for member in enum}
    used |= {f"priority.{level}" for level in (1, 2, 3)}  # config/categories.yaml priorities
    from dispatch.intake import Outcome
    from dispatch.patrol.roster import DAILY, RESTDAYS, WORKDAYS
    from dispatch.patrol.roster_file import COLUMNS

    used |= {f"outcome.{member.value}" for member in Outcome} | {f"days.{d}" for d in (WORKDAYS, RESTDAYS, DAILY)}
    used |= {f"roster_field.{field}" for field in COLUMNS}  # roster refusals name these fields
    patrol = Path(__file__).resolve().parents[2] / "dispatch" / "patrol"
    codes = {code for path in patrol.glob("*.py")  # and say what is wrong in the page's language
             for code in re.findall(r"""RowProblem\(\s*["']([a-z_]+)["']""", path.read_text(encoding="utf-8"))}
    assert len(codes) >= 8
    used |= {f"roster_problem.{code}" for code in codes}
    assert sorted(used - set(MESSAGES["zh-CN"])) == []
