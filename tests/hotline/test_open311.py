"""An Open311 GeoReport v2 client written from the spec, with `requests`, against a real server on loopback."""
import datetime as dt
from collections.abc import Iterator
from xml.etree import ElementTree

import pytest
import requests

from dispatch.account.service import issue_token
from dispatch.ticket.enums import TicketSource
from dispatch.ticket.models import Ticket
from tests.factories import DEMO_CENTRE_WGS84
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

    [seen] = requests.get(f"{base}/requests/{request_id}.json", timeout=10).json()
    assert seen["status"] == "open" and "reported" in seen["status_notes"]
    assert (seen["service_code"], seen["description"]) == ("0505", "一辆轿车停在盲道上")
    assert seen["lat"] == pytest.approx(lat) and seen["long"] == pytest.approx(lon)
    assert seen["requested_datetime"].endswith("Z") and "13700003333" not in str(seen)

    [token] = requests.get(f"{base}/tokens/{seen['token']}.json", timeout=10).json()
    assert token["service_request_id"] == request_id

    with platform.sessions() as session:
        case_id = session.get(Ticket, int(request_id)).case_id
    run_loop(platform, case_id)

    [closed] = requests.get(f"{base}/requests/{request_id}.json", timeout=10).json()
    assert closed["status"] == "closed" and "persuaded" in closed["status_notes"]
    assert closed["updated_datetime"] >= closed["requested_datetime"]
    assert closed["agency_responsible"].endswith("执法中队")
    listed = requests.get(f"{base}/requests.json", params={"status": "closed", "service_code": "0505,0501"},
                          timeout=10).json()
    assert [r["service_request_id"] for r in listed] == [request_id]
    assert requests.get(f"{base}/requests.json", params={"status": "open"}, timeout=10).json() == []


def test_an_address_string_is_placed_from_the_standard_addresses(open311) -> None:
    base, _, api_key = open311
    filed = requests.post(f"{base}/requests.json", timeout=10, data={
        "api_key": api_key, "service_code": "0501", "address_string": "信阳市浉河区民权路十号",
        "description": "流动摊贩"})
    assert filed.status_code == 201, filed.text
    [seen] = requests.get(f"{base}/requests/{filed.json()[0]['service_request_id']}.json", timeout=10).json()
    assert seen["lat"] is not None and seen["address"] == "信阳市浉河区民权路十号"


@pytest.mark.parametrize(("method", "path", "data", "status"), [
    ("post", "requests.json", {"service_code": "0505", "lat": "32.1", "long": "114.0"}, 403),  # no api_key
    ("post", "requests.json", {"api_key": "gp_wrong", "service_code": "0505", "lat": "32.1", "long": "114.0"}, 403),
    ("post", "requests.json", {"api_key": "KEY", "service_code": "9999", "lat": "32.1", "long": "114.0"}, 404),
    ("post", "requests.json", {"api_key": "KEY", "lat": "32.1", "long": "114.0"}, 400),  # no service_code
    ("post", "requests.json", {"api_key": "KEY", "service_code": "0505"}, 400),  # no location
    ("get", "requests/999999.json", {}, 404),
    ("get", "tokens/nope.json", {}, 404),
    ("get", "requests.json", {"start_date": "2026-01-01T00:00:00Z", "end_date": "2026-06-01T00:00:00Z"}, 400),
    ("get", "requests.json", {"start_date": "2026-01-01"}, 400),  # no time zone
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
    base, _, _ = open311
    response = requests.get(f"{base}/services.xml", timeout=10)
    assert response.headers["Content-Type"].startswith("text/xml")
    assert response.content.startswith(b"<?xml")
    root = ElementTree.fromstring(response.content)
    assert root.tag == "services" and root.find("service/service_code").text == "0501"
    errors = ElementTree.fromstring(requests.get(f"{base}/requests/424242.xml", timeout=10).content)
    assert errors.tag == "errors" and errors.find("error/code").text == "404"
    start = (dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=1)).isoformat()
    listed = requests.get(f"{base}/requests.xml", params={"start_date": start}, timeout=10)
    assert ElementTree.fromstring(listed.content).tag == "service_requests"
