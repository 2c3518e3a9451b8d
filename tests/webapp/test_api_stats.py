"""Statistics: the ranking and the charts count the same cases; periods as plain local dates."""
import datetime as dt
from zoneinfo import ZoneInfo

from tests.webapp.test_api_cases import LON, LAT, LOOP, new_case, run  # noqa: F401 - run is a fixture
from grid.geodesy import offset_m

CST = ZoneInfo("Asia/Shanghai")


def test_charts_count_the_cases_the_ranking_counts(client, run) -> None:
    registered = new_case(client, category="0501")
    new_case(client, category="0507", lon=offset_m(LON, LAT, 0, 400)[0], lat=offset_m(LON, LAT, 0, 400)[1])
    run(registered, LOOP[:1])  # the second case stays reported, not registered: neither side counts it
    ranking = sum(row["cases"] for row in client.get("/api/stats/squads").json)
    counts = client.get("/api/stats/cases").json
    assert ranking == sum(counts["by_category"].values()) == sum(counts["by_day"].values()) == 1
    assert counts["by_category"] == {"0501": 1}
    assert sum(cell["cases"] for cell in counts["by_cell"].values()) == 1


def test_a_plain_date_is_a_local_day(client, run) -> None:
    case = new_case(client)
    run(case, LOOP[:1])
    today = dt.datetime.now(CST).date()
    tomorrow = today + dt.timedelta(days=1)

    def registered(query: str) -> int:
        response = client.get(f"/api/stats/cases?{query}")
        assert response.status_code == 200, response.json
        squads = client.get(f"/api/stats/squads?{query}")
        assert squads.status_code == 200, squads.json
        assert sum(row["cases"] for row in squads.json) == sum(response.json["by_category"].values())
        return sum(response.json["by_category"].values())

    assert registered(f"since={today}") == 1
    assert registered(f"until={today}") == 1            # through the end of today
    assert registered(f"since={tomorrow}") == 0
    assert registered(f"until={today - dt.timedelta(days=1)}") == 0
    assert registered(f"since={today}&until={today}") == 1


def test_a_bad_period_names_the_field(client) -> None:
    response = client.get("/api/stats/cases?since=2026-13-01")
    assert response.status_code == 422
    assert "since" in response.json["errors"]["query"]
