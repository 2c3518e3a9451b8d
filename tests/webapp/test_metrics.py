"""Liveness and Prometheus metrics."""
from prometheus_client.parser import text_string_to_metric_families

from tests.factories import DEMO_CENTRE_WGS84, make_settings, ticket_payload
from webapp import create_app


def samples(text: str) -> dict[tuple[str, tuple], float]:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def test_liveness_is_open_and_checks_the_database(app) -> None:
    response = app.test_client().get("/healthz")
    assert response.status_code == 200 and response.json["status"] == "ok"


def test_metrics_count_open_cases_and_the_report_backlog(app, client, platform) -> None:
    assert app.test_client().get("/metrics").status_code == 401
    lon, lat = DEMO_CENTRE_WGS84
    case = client.post("/api/tickets", json=ticket_payload(lon=lon, lat=lat)).json["case"]
    platform.detections.add({"not": "yet read"})
    platform.source_health.put("cam-1", {"kind": "camera", "fps": 1.9, "reported_at": 0})
    values = samples(client.get("/metrics").get_data(as_text=True))
    assert values[("gridpatrol_open_cases", (("overdue", "false"), ("squad", case["squad_code"])))] == 1
    assert values[("gridpatrol_detection_reports", (("state", "waiting"),))] == 1
    assert values[("gridpatrol_source_fps", (("kind", "camera"), ("source", "cam-1")))] == 1.9


def test_prometheus_scrapes_with_its_token(tmp_path) -> None:
    app = create_app(make_settings(f"sqlite:///{tmp_path / 'm.sqlite3'}", tmp_path, app={"metrics_token": "scrape-me"}))
    scraper = app.test_client()
    assert scraper.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    ok = scraper.get("/metrics", headers={"Authorization": "Bearer scrape-me"})
    assert ok.status_code == 200 and "gridpatrol_open_cases" in ok.get_data(as_text=True)
