"""An Open311 GeoReport v2 client written from the spec, with `requests`, against a real server on loopback."""
import datetime as dt
from collections.abc import Iterator
from xml.etree import ElementTree

import pytest
import requests

from dispatch.account.enums import Role
from dispatch.account.service import create_user, issue_token
from dispatch.case.events import commit_and_publish
from dispatch.intake import submit_ticket
from dispatch.ticket.enums import TicketSource
from dispatch.ticket.models import Ticket
from tests.factories import DEMO_CENTRE_WGS84, ticket_in
from tests.hotline.conftest import load_demo_addresses, run_loop, serve_in_thread
from webapp.platform import Platform


@pytest.fixture
def open311(sqlite_app) -> Iterator[tuple[str, Platform, str]]:
    """(base URL, platform, api_key) of a server on a free loopback port."""
    app = sqlite_app()
    platform: Platform = app.extensions["gridpatrol"]
    load_demo_addresses(platform)
    with platform.sessions() as session:
        api_key = issue_token(session=session, name="open311-client", sources=[TicketSource.HOTLINE_12345])
        session.commit()
    for base in serve_in_thread(app):
        yield f"{base}/open311/v2", platform, api_key


@pytest.fixture
def client_for():
    """client_for(app, role, squad=None): a test client of `app` signed in as a new user of that role."""
    made = iter(range(1, 1000))

    def sign_in(app, role: str, squad: str | None = None):
        username = f"{role}{next(made)}"
        with app.extensions["gridpatrol"].sessions() as session:
            create_user(session=session, username=username, password="pw-for-tests", role=Role(role),
                        squad_code=squad)
            session.commit()
        client = app.test_client()
        signed_in = client.post("/api/auth/login", json={"username": username, "password": "pw-for-tests"})
        assert signed_in.status_code == 200
        client.environ_base["HTTP_X_CSRFTOKEN"] = signed_in.json["csrf_token"]  # as the pages send it with writes
        return client

    return sign_in


def test_a_client_files_a_request_follows_it_and_sees_it_closed(open311) -> None:
    base, platform, api_key = open311
    services = requests.get(f"{base}/services.json", timeout=10).json()
    parking = next(s for s in services if s["service_code"] == "0505")
    assert parking["type"] == "realtime" and parking["metadata"] is False

    lon, lat = DEMO_CENTRE_WGS84
    filed = requests.post(f"{base}/requests.json", timeout=10, data={
        "api_key": api_key, "service_code": "0505", "lat": f"{lat:.7f}", "long": f"{lon:.7f}",
        "description": "一辆轿车停在盲道上", "first_name": "Ming", "last_name": "Li", "phone": "13700003333"})
    assert filed.status_code == 201, filed.text
    assert filed.headers["Content-Type"].startswith("application/json")
    [created] = filed.json()
    request_id = created["service_request_id"]
    assert "token" not in created  # realtime: the id, never both

    own = {"api_key": api_key}
    [seen] = requests.get(f"{base}/requests/{request_id}.json", params=own, timeout=10).json()
    assert seen["status"] == "open" and "reported" in seen["status_notes"]
    assert (seen["service_code"], seen["description"]) == ("0505", "一辆轿车停在盲道上")
    assert seen["lat"] == pytest.approx(lat) and seen["long"] == pytest.approx(lon)
    assert seen["requested_datetime"].endswith("Z") and "13700003333" not in str(seen)

    [token] = requests.get(f"{base}/tokens/{seen['token']}.json", timeout=10).json()
    assert token["service_request_id"] == request_id

    with platform.sessions() as session:
        case_id = session.get(Ticket, int(request_id)).case_id
    run_loop(platform, case_id)

    [closed] = requests.get(f"{base}/requests/{request_id}.json", params=own, timeout=10).json()
    assert closed["status"] == "closed" and "persuaded" in closed["status_notes"]
    assert closed["updated_datetime"] >= closed["requested_datetime"]
    assert closed["agency_responsible"].endswith("执法中队")
    listed = requests.get(f"{base}/requests.json", params={**own, "status": "closed", "service_code": "0505,0501"},
                          timeout=10).json()
    assert [r["service_request_id"] for r in listed] == [request_id]
    assert requests.get(f"{base}/requests.json", params={**own, "status": "open"}, timeout=10).json() == []


def test_an_address_string_is_placed_from_the_standard_addresses(open311) -> None:
    base, _, api_key = open311
    filed = requests.post(f"{base}/requests.json", timeout=10, data={
        "api_key": api_key, "service_code": "0501", "address_string": "信阳市浉河区民权路十号",
        "description": "流动摊贩"})
    assert filed.status_code == 201, filed.text
    [seen] = requests.get(f"{base}/requests/{filed.json()[0]['service_request_id']}.json",
                          params={"api_key": api_key}, timeout=10).json()
    assert seen["lat"] is not None and seen["address"] == "信阳市浉河区民权路十号"


@pytest.mark.parametrize(("method", "path", "data", "status"), [
    ("post", "requests.json", {"service_code": "0505", "lat": "32.1", "long": "114.0"}, 403),  # no api_key
    ("post", "requests.json", {"api_key": "gp_wrong", "service_code": "0505", "lat": "32.1", "long": "114.0"}, 403),
    ("post", "requests.json", {"api_key": "KEY", "service_code": "9999", "lat": "32.1", "long": "114.0"}, 404),
    ("post", "requests.json", {"api_key": "KEY", "lat": "32.1", "long": "114.0"}, 400),  # no service_code
    ("post", "requests.json", {"api_key": "KEY", "service_code": "0505"}, 400),  # no location
    ("get", "requests/999999.json", {"api_key": "KEY"}, 404),
    ("get", "requests.json", {"api_key": "KEY", "service_request_id": "2147483648"}, 400),
    ("get", "requests.json", {}, 403),  # private: no api_key, no listing
    ("get", "requests.json", {"api_key": "gp_wrong"}, 403),
    ("get", "tokens/nope.json", {}, 404),
    ("get", "requests.json", {"api_key": "KEY", "start_date": "2026-01-01T00:00:00Z",
                              "end_date": "2026-06-01T00:00:00Z"}, 400),
    ("get", "requests.json", {"api_key": "KEY", "start_date": "2026-01-01"}, 400),  # no time zone
    ("get", "services.json", {"jurisdiction_id": "elsewhere.gov"}, 404),
])
def test_errors_come_in_the_spec_shape(open311, method, path, data, status) -> None:
    base, _, api_key = open311
    data = {key: api_key if value == "KEY" else value for key, value in data.items()}
    if method == "post":
        response = requests.post(f"{base}/{path}", data=data, timeout=10)
    else:
        response = requests.get(f"{base}/{path}", params=data, timeout=10)
    assert response.status_code == status
    [error] = response.json()
    assert error["code"] == status and error["description"]


def test_xml_is_served_too(open311) -> None:
    base, _, api_key = open311
    response = requests.get(f"{base}/services.xml", timeout=10)
    assert response.headers["Content-Type"].startswith("text/xml")
    assert response.content.startswith(b"<?xml")
    root = ElementTree.fromstring(response.content)
    assert root.tag == "services" and root.find("service/service_code").text == "0501"
    errors = ElementTree.fromstring(requests.get(f"{base}/requests/424242.xml", params={"api_key": api_key},
                                                 timeout=10).content)
    assert errors.tag == "errors" and errors.find("error/code").text == "404"
    start = (dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=1)).isoformat()
    listed = requests.get(f"{base}/requests.xml", params={"start_date": start, "api_key": api_key}, timeout=10)
    assert ElementTree.fromstring(listed.content).tag == "service_requests"


def file_request(base: str, api_key: str, description: str) -> str:
    lon, lat = DEMO_CENTRE_WGS84
    filed = requests.post(f"{base}/requests.json", timeout=10, data={
        "api_key": api_key, "service_code": "0505", "lat": f"{lat:.7f}", "long": f"{lon:.7f}",
        "description": description, "phone": "13700003333"})
    assert filed.status_code == 201, filed.text
    return filed.json()[0]["service_request_id"]


def hotline_ticket(platform: Platform) -> int:
    """A ticket that came in by phone: never Open311's to show."""
    lon, lat = DEMO_CENTRE_WGS84
    with platform.sessions() as session:
        result = submit_ticket(session=session, ctx=platform.ctx, actor="test",
                               ticket_in=ticket_in(lon=lon, lat=lat, text="来电人13900001111反映摊贩"), raw={})
        commit_and_publish(session, platform.bus)
        return result.ticket.id


def test_requests_are_private_by_default_and_clients_see_their_own(open311) -> None:
    base, platform, api_key = open311
    with platform.sessions() as session:
        other_key = issue_token(session=session, name="other-client", sources=[TicketSource.HOTLINE_12345])
        session.commit()
    mine = file_request(base, api_key, "盲道上停着一辆车")
    theirs = file_request(base, other_key, "另一个客户的请求")
    by_phone = hotline_ticket(platform)
    anonymous = requests.get(f"{base}/requests.json", timeout=10)
    assert anonymous.status_code == 403 and anonymous.json()[0]["code"] == 403
    for request_id in (mine, by_phone):
        assert requests.get(f"{base}/requests/{request_id}.json", timeout=10).status_code == 403
    listed = requests.get(f"{base}/requests.json", params={"api_key": api_key}, timeout=10).json()
    assert [r["service_request_id"] for r in listed] == [mine]
    for request_id in (theirs, by_phone):
        hidden = requests.get(f"{base}/requests/{request_id}.json", params={"api_key": api_key}, timeout=10)
        assert hidden.status_code == 404
    asked = requests.get(f"{base}/requests.json", params={"api_key": api_key, "service_request_id": f"{theirs},{by_phone}"},
                         timeout=10).json()
    assert asked == []


def test_a_public_listing_shows_open311_and_marked_requests_scrubbed_and_rounded(sqlite_app, client_for) -> None:
    app = sqlite_app(hotline={"open311": {"public_listing": True, "public_location_decimals": 3}})
    platform: Platform = app.extensions["gridpatrol"]
    with platform.sessions() as session:
        api_key = issue_token(session=session, name="open311-client", sources=[TicketSource.HOTLINE_12345])
        session.commit()
    by_phone, marked = hotline_ticket(platform), hotline_ticket(platform)
    dispatcher = client_for(app, "dispatcher")
    assert dispatcher.post(f"/api/tickets/{marked}/public", json={"public": True}).status_code == 200
    officer = client_for(app, "officer", "SQ01")
    assert officer.post(f"/api/tickets/{by_phone}/public", json={"public": True}).status_code == 403
    for base in serve_in_thread(app):
        base = f"{base}/open311/v2"
        filed = file_request(base, api_key, "车主电话13800001234，车停盲道")
        listed = requests.get(f"{base}/requests.json", timeout=10).json()
        assert sorted(r["service_request_id"] for r in listed) == sorted([filed, str(marked)])
        for request in listed:
            assert "13800001234" not in str(request) and "13900001111" not in str(request)
            assert request["lat"] == round(request["lat"], 3) and request["long"] == round(request["long"], 3)
            assert request["address"] is None and request["media_url"] is None
        assert requests.get(f"{base}/requests/{by_phone}.json", timeout=10).status_code == 404
        [own] = requests.get(f"{base}/requests/{filed}.json", params={"api_key": api_key}, timeout=10).json()
        assert "13800001234" in own["description"]  # the client's own words, as sent
