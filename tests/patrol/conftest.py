"""Patrol fixtures: officers of two squads with their clients, and points in their cells."""
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from flask.testing import FlaskClient

from dispatch.account.enums import Role
from dispatch.account.service import create_user
from grid.geodesy import offset_m
from tests.factories import DEMO_CENTRE_WGS84
from webapp.platform import Platform

PASSWORD = "pw-for-tests"


@dataclass
class Member:
    username: str
    client: FlaskClient


@pytest.fixture
def member(app, platform: Platform) -> Callable[..., Member]:
    """member(role, squad, username): a user of that name, signed in (rosters name officers by username)."""

    def make(role: str, squad: str | None, username: str) -> Member:
        with platform.sessions() as session:
            create_user(session=session, username=username, password=PASSWORD, role=Role(role), squad_code=squad)
            session.commit()
        client = app.test_client()
        response = client.post("/api/auth/login", json={"username": username, "password": PASSWORD})
        assert response.status_code == 200, response.json
        client.environ_base["HTTP_X_CSRFTOKEN"] = response.json["csrf_token"]
        return Member(username, client)

    return make


def cell_points(platform: Platform, squad: str, count: int) -> list[tuple[str, float, float]]:
    """`count` cells of `squad` in a row eastwards from the test centre's cell, with each cell's centre point."""
    grid = platform.ctx.grid
    found = []
    for step in range(40):
        lon, lat = offset_m(*DEMO_CENTRE_WGS84, -250 * step, 0)  # cell centres westwards, in the SW block
        code = grid.locate_one(lon, lat)
        if code is not None and grid.cells.set_index("code").loc[code, "squad_code"] == squad:
            found.append((code, lon, lat))
        if len(found) == count:
            return found
    raise AssertionError(f"no {count} cells of {squad} west of the centre")


@pytest.fixture
def sw_squad(platform: Platform) -> str:
    """The squad holding the factories' test centre (the south-west block)."""
    return platform.ctx.grid.cells.set_index("code").loc[platform.ctx.grid.locate_one(*DEMO_CENTRE_WGS84), "squad_code"]
