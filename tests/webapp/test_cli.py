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
