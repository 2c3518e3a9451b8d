"""Commands as an operator runs them: build a real city's grid, create accounts and tokens."""
import json
import re

import pytest

from dispatch.squad.service import load_unit_grid
from grid.crs import gcj02_to_wgs84
from tests.factories import make_settings
from tests.requirements import shared_path
from webapp import create_app


@pytest.fixture
def boundary_app(tmp_path):
    settings = make_settings(f"sqlite:///{tmp_path / 'city.sqlite3'}", tmp_path, city={"source": "boundary"})
    return create_app(settings)


def test_grid_build_on_a_real_gcj02_boundary(boundary_app) -> None:
    path = shared_path("data/geo/datav/411502.json")
    result = boundary_app.test_cli_runner().invoke(
        args=["grid", "build", str(path), "--crs", "gcj02", "--cell-size", "1000"])
    assert result.exit_code == 0, result.output
    cells, squads = map(int, re.search(r"(\d+) cells, (\d+) squads stored", result.output).groups())
    assert squads == 1 and 1700 < cells < 2100  # 浉河区 is about 1,900 km²
    assert "cutting cells" in result.output  # progress shown
    platform = boundary_app.extensions["gridpatrol"]
    with platform.sessions() as session:
        grid = load_unit_grid(session=session)
    seat_lon, seat_lat = (float(v) for v in gcj02_to_wgs84(114.075031, 32.123274))  # district government seat
    assert grid.locate_one(seat_lon, seat_lat).startswith("411502")


def test_grid_build_refuses_an_unknown_crs(boundary_app) -> None:
    path = shared_path("data/geo/datav/411502.json")
    result = boundary_app.test_cli_runner().invoke(args=["grid", "build", str(path), "--crs", "utm50"])
    assert result.exit_code != 0 and "--crs" in result.output


def test_users_and_tokens_commands(boundary_app) -> None:
    runner = boundary_app.test_cli_runner()
    created = runner.invoke(args=["users", "create", "chief", "--password", "a-long-secret"])
    assert created.exit_code == 0 and "created admin 'chief'" in created.output
    again = runner.invoke(args=["users", "create", "chief", "--password", "a-long-secret"])
    assert again.exit_code != 0 and "taken" in again.output
    token = runner.invoke(args=["tokens", "create", "gateway", "--source", "hotline_12345"])
    assert token.exit_code == 0 and token.output.strip().startswith("gp_")
    client = boundary_app.test_client()
    assert client.post("/api/auth/login", json={"username": "chief", "password": "a-long-secret"}).status_code == 200


def test_grid_import_of_an_existing_grid_file(boundary_app, tmp_path) -> None:
    cells = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"wgbm": f"41150200000{i}", "qx": "411502"},
         "geometry": {"type": "Polygon", "coordinates": [[[114.0 + i * 0.01, 32.1], [114.01 + i * 0.01, 32.1],
                                                          [114.01 + i * 0.01, 32.11], [114.0 + i * 0.01, 32.11],
                                                          [114.0 + i * 0.01, 32.1]]]}}
        for i in range(3)]}
    path = tmp_path / "grid.geojson"
    path.write_text(json.dumps(cells), encoding="utf-8")
    result = boundary_app.test_cli_runner().invoke(
        args=["grid", "import", str(path), "--crs", "wgs84", "--code-field", "wgbm", "--district-field", "qx"])
    assert result.exit_code == 0, result.output
    assert "3 cells, 1 squads stored" in result.output
    with boundary_app.extensions["gridpatrol"].sessions() as session:
        grid = load_unit_grid(session=session)
    assert grid.locate_one(114.015, 32.105) == "411502000001"


@pytest.fixture
def demo_app_with_case(tmp_path):
    """The demo city with one open case at its centre, made through the API as a hotline would."""
    from dispatch.account.enums import Role
    from dispatch.account.service import create_user
    from tests.factories import DEMO_CENTRE_WGS84, ticket_payload

    app = create_app(make_settings(f"sqlite:///{tmp_path / 'demo.sqlite3'}", tmp_path))
    platform = app.extensions["gridpatrol"]
    with platform.sessions() as session:
        create_user(session=session, username="disp", password="pw-for-tests", role=Role.DISPATCHER)
        session.commit()
    client = app.test_client()
    signed_in = client.post("/api/auth/login", json={"username": "disp", "password": "pw-for-tests"})
    assert signed_in.status_code == 200
    client.environ_base["HTTP_X_CSRFTOKEN"] = signed_in.json["csrf_token"]  # as the pages send it with writes
    lon, lat = DEMO_CENTRE_WGS84
    created = client.post("/api/tickets", json=ticket_payload(lon=lon, lat=lat))
    assert created.status_code == 201, created.json
    return app, client, created.json["case"]


def square_grid(path, lon: float, lat: float, code: str, squad: str) -> None:
    half = 0.01
    ring = [[lon - half, lat - half], [lon + half, lat - half], [lon + half, lat + half], [lon - half, lat + half],
            [lon - half, lat - half]]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"code": code, "district_code": code[:6], "squad_code": squad},
         "geometry": {"type": "Polygon", "coordinates": [ring]}}]}), encoding="utf-8")


def test_a_grid_that_would_move_cases_is_refused_unless_replace(demo_app_with_case, tmp_path) -> None:
    app, client, case = demo_app_with_case
    path = tmp_path / "new-grid.geojson"
    square_grid(path, case["lon"], case["lat"], code="411502999001", squad="NEW1")
    runner = app.test_cli_runner()
    refused = runner.invoke(args=["grid", "import", str(path), "--crs", "wgs84"])
    assert refused.exit_code != 0
    assert "would move 1 of the 1 stored cases (1 open)" in refused.output and "--replace" in refused.output
    assert client.get(f"/api/cases/{case['id']}").json["cell_code"] == case["cell_code"]  # nothing changed

    replaced = runner.invoke(args=["grid", "import", str(path), "--crs", "wgs84", "--replace"])
    assert replaced.exit_code == 0, replaced.output
    assert "1 moved to another cell or squad" in replaced.output and f"case ids [{case['id']}]" in replaced.output
    assert "squads left without cells" in replaced.output and "Restart running web processes" in replaced.output
    detail = client.get(f"/api/cases/{case['id']}").json
    assert (detail["cell_code"], detail["squad_code"]) == ("411502999001", "NEW1")
    regridded = [e for e in detail["timeline"] if e["kind"] == "regridded"]
    assert len(regridded) == 1 and regridded[0]["data"]["from"]["cell_code"] == case["cell_code"]


def test_a_grid_that_misses_a_case_is_refused_even_with_replace(demo_app_with_case, tmp_path) -> None:
    app, client, case = demo_app_with_case
    path = tmp_path / "far-grid.geojson"
    square_grid(path, case["lon"] + 0.3, case["lat"], code="411502999001", squad="FAR1")  # ~30 km east
    result = app.test_cli_runner().invoke(args=["grid", "import", str(path), "--crs", "wgs84", "--replace"])
    assert result.exit_code != 0 and "1 cases lie outside the new grid" in result.output
    assert client.get(f"/api/cases/{case['id']}").json["cell_code"] == case["cell_code"]


def test_a_boundary_city_is_cut_on_first_start(tmp_path) -> None:
    path = shared_path("data/geo/datav/411502.json")
    settings = make_settings(f"sqlite:///{tmp_path / 'city.sqlite3'}", tmp_path, city={
        "source": "boundary", "boundary": str(path), "boundary_crs": "gcj02", "cell_size_m": 2000})
    grid = create_app(settings).extensions["gridpatrol"].ctx.grid
    assert grid is not None and 400 < len(grid) < 600  # about 1,900 km² in 4 km² cells
    seat_lon, seat_lat = (float(v) for v in gcj02_to_wgs84(114.075031, 32.123274))
    assert grid.locate_one(seat_lon, seat_lat).startswith("411502")
    again = create_app(settings).extensions["gridpatrol"].ctx.grid  # the second start keeps the stored grid
    assert len(again) == len(grid)
