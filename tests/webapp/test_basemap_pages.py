"""The platform serves its own base map: signed-in only, in range requests; pages draw it unless a tile server is set."""
import json
import re
from pathlib import Path

import pytest

from dispatch.account.enums import Role
from dispatch.account.service import create_user
from grid.basemap import build_basemap
from tests.factories import make_settings
from tests.requirements import shared_path
from webapp import create_app
from webapp.platform import build_platform

NINGHUA = "data/geo/osm/fujian_ninghua_invisiphantom_map.osm"


@pytest.fixture(scope="module")
def basemap_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("basemap")
    path = folder / "basemap.pmtiles"
    build_basemap(extract=shared_path(NINGHUA), output=path, label_keys=["name:zh", "name"], min_zoom=10, max_zoom=15,
                  name="ninghua")
    return path


def client_for(folder: Path, basemap: Path, **map_settings: object):
    settings = make_settings(f"sqlite:///{folder / 'gridpatrol.sqlite3'}", folder,
                             map={"basemap": {"file": str(basemap)}, **map_settings})
    platform = build_platform(settings)
    with platform.sessions() as session:
        create_user(session=session, username="leader", password="pw-basemap", role=Role.SQUAD_LEADER,
                    squad_code="SQ01")
        session.commit()
    client = create_app(platform=platform).test_client()
    signed_in = client.post("/api/auth/login", json={"username": "leader", "password": "pw-basemap"})
    assert signed_in.status_code == 200
    client.environ_base["HTTP_X_CSRFTOKEN"] = signed_in.json["csrf_token"]  # as the pages send it with writes
    return client, platform


def boot_of(html: str) -> dict:
    return json.loads(re.search(r'<script id="gp-boot" type="application/json">(.*?)</script>', html, re.S).group(1))


def test_signed_in_pages_read_the_base_map_in_ranges(tmp_path: Path, basemap_file: Path) -> None:
    client, platform = client_for(tmp_path, basemap_file)
    whole = basemap_file.read_bytes()
    header = client.get("/basemap.pmtiles", headers={"Range": "bytes=0-126"})
    assert header.status_code == 206 and header.data == whole[:127] and header.data.startswith(b"PMTiles")
    middle = client.get("/basemap.pmtiles", headers={"Range": "bytes=1000-1999"})
    assert middle.status_code == 206 and middle.data == whole[1000:2000]
    assert header.headers["ETag"] and header.headers["Accept-Ranges"] == "bytes"
    header.close()
    middle.close()
    page = client.get("/map").get_data(as_text=True)
    basemap = boot_of(page)["map"]["basemap"]
    assert basemap["url"] == "/basemap.pmtiles" and basemap["max_data_zoom"] == 15
    assert "file" not in basemap and str(basemap_file) not in page  # no server paths in the page
    assert "protomaps-leaflet.js" in page and "js/basemap.js" in page and "map-note" not in page
    assert "js/basemap.js" in client.get("/stats").get_data(as_text=True)  # the heat map draws it too
    with client.get("/vendor/protomaps-leaflet/protomaps-leaflet.js") as library:
        assert library.status_code == 200
    assert client.post("/api/auth/logout").status_code == 204
    assert client.get("/basemap.pmtiles").status_code == 401
    platform.engine.dispose()


def test_a_tile_server_wins_and_a_missing_file_says_how_to_build_it(tmp_path: Path, basemap_file: Path) -> None:
    client, platform = client_for(tmp_path / "tiles", basemap_file, tile_url="http://gis.intranet/{z}/{x}/{y}.png")
    page = client.get("/map").get_data(as_text=True)
    assert boot_of(page)["map"]["basemap"] is None and "protomaps-leaflet.js" not in page
    assert client.get("/basemap.pmtiles").status_code == 404
    platform.engine.dispose()
    client, platform = client_for(tmp_path / "none", tmp_path / "never-built.pmtiles")
    page = client.get("/map?lang=zh-CN").get_data(as_text=True)
    assert boot_of(page)["map"]["basemap"] is None and "python -m webapp basemap build" in page
    platform.engine.dispose()


def test_the_command_builds_the_configured_file_and_names_a_bad_extract(tmp_path: Path) -> None:
    settings = make_settings(f"sqlite:///{tmp_path / 'gridpatrol.sqlite3'}", tmp_path)
    platform = build_platform(settings)
    runner = create_app(platform=platform).test_cli_runner()
    built = runner.invoke(args=["basemap", "build", str(shared_path(NINGHUA))])
    assert built.exit_code == 0, built.output
    target = tmp_path / "basemap.pmtiles"  # map.basemap.file of these settings
    assert target.is_file() and f"{target}: " in built.output and "tiles, zoom 10-15" in built.output
    empty = tmp_path / "empty.osm"
    empty.write_text('<?xml version="1.0"?><osm version="0.6"></osm>')
    refused = runner.invoke(args=["basemap", "build", str(empty), "--output", str(tmp_path / "other.pmtiles")])
    assert refused.exit_code == 2 and "EXTRACT" in refused.output and "has no streets" in refused.output
    assert not (tmp_path / "other.pmtiles").exists()
    platform.engine.dispose()
