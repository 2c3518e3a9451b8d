"""The console's sign-off control and case-file links in a real browser (Debian's Chromium)."""
import threading
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser
from werkzeug.serving import make_server

from dispatch.account.enums import Role
from dispatch.account.service import create_user
from tests.factories import make_settings, ticket_payload
from tests.webapp.test_browser import CENTRE, PASSWORD, SCREENSHOTS, Server, browser, open_ready, signed_in
from webapp import create_app
from webapp.platform import build_platform

__all__ = ["browser"]  # the module-scoped Chromium fixture, shared with test_browser


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The platform of a city whose close step needs an admin's sign-off."""
    folder = tmp_path_factory.mktemp("casefile-browser")
    rules = folder / "signoff.yaml"
    rules.write_text("signer_roles: [admin]\nsteps:\n  '*': [close]\n", encoding="utf-8")
    platform = build_platform(make_settings(f"sqlite:///{folder / 'gridpatrol.sqlite3'}", folder,
                                            dispatch={"signoff_file": str(rules)}))
    app = create_app(platform=platform)
    with platform.sessions() as session:
        create_user(session=session, username="admin1", password=PASSWORD, role=Role.ADMIN, squad_code=None)
        session.commit()
    http = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    yield Server(url=f"http://127.0.0.1:{http.server_port}", platform=platform)
    http.shutdown()
    thread.join(timeout=10)
    platform.engine.dispose()


def test_admin_signs_off_close_in_the_console(browser: Browser, server: Server) -> None:
    context, page = signed_in(browser, server, "admin1")
    api = context.request
    case = api.post("/api/tickets", data=ticket_payload(lon=CENTRE[0], lat=CENTRE[1]), headers=context.csrf).json()["case"]
    # "not found" needs no on-site photo to be reported (categories.yaml), and a reviewer still flags the missing one
    for action, body in (("register", {}), ("dispatch", {}), ("accept", {}), ("handle", {"result": "not_found"}),
                         ("verify", {})):
        assert api.post(f"/api/cases/{case['id']}/transitions", data={"action": action, **body},
                        headers=context.csrf).ok
    assert api.post(f"/api/cases/{case['id']}/transitions", data={"action": "close"}, headers=context.csrf).status == 409
    open_ready(page, "/console")
    page.click(f"tr[data-case-id='{case['id']}']")
    page.wait_for_selector("#d-signoffs li[data-step='close'] input")
    assert page.inner_text("#d-flags").strip() == "处置结果无现场照片"  # the review flag of this case
    assert page.get_attribute("#d-file a[data-format='pdf']", "href") == f"/api/cases/{case['id']}/file?format=pdf"
    page.fill("#d-signoffs li[data-step='close'] input", "同意结案")
    page.click("#d-signoffs li[data-step='close'] button")
    page.wait_for_selector("#d-signoffs li.signed[data-step='close']")
    assert "同意结案" in page.inner_text("#d-timeline")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "console-signoff.png"))
    assert api.post(f"/api/cases/{case['id']}/transitions", data={"action": "close"}, headers=context.csrf).ok
    assert not page.errors
    context.close()
