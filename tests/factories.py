"""Builders of valid inputs, shaped exactly as the API's schemas load them."""
from pathlib import Path
from typing import Any

import config
from config import Settings
from config.settings import deep_merge

from dispatch.ticket.schemas import TicketIn
from grid.demo import demo_city
from grid.geodesy import offset_m

_counter = iter(range(1, 10**9))


def demo_centre() -> tuple[float, float]:
    """WGS-84 centre of the demo city."""
    cells, _ = demo_city()
    minx, miny, maxx, maxy = cells.total_bounds
    return (minx + maxx) / 2, (miny + maxy) / 2


# The middle of a cell in the south-west squad's block: 2.5 cells west and 1.5 cells south of the
# city's centre (a cell corner shared by all four squads), so small offsets stay in one cell and squad.
DEMO_CENTRE_WGS84 = offset_m(*demo_centre(), -625, -375)


def ticket_payload(
    *, lon: float | None, lat: float | None, crs: str | None = "wgs84", category: str = "0501",
    source: str = "hotline_12345", external_id: str | None = None, **extra: Any,
) -> dict[str, Any]:
    """A JSON body for POST /api/tickets."""
    payload: dict[str, Any] = {
        "source": source,
        "external_id": external_id or f"T{next(_counter):08d}",
        "category": category,
        "text": "人行道上有流动摊贩占道经营",
        "address": "浉河区测试路1号",
        "reporter": {"name": "张三", "phone": "13812341234"},
        **extra,
    }
    if lon is not None:
        payload["location"] = {"lon": lon, "lat": lat, "crs": crs}
    return payload


def ticket_in(**kwargs: Any) -> dict[str, Any]:
    """The validated form of ticket_payload(**kwargs), as services take it."""
    return TicketIn().load(ticket_payload(**kwargs))


def make_settings(database_url: str, instance_dir: Path | None = None, **overrides) -> Settings:
    """The defaults with another database and no demo accounts; no environment leaks in."""
    base = {"database": {"url": database_url}, "city": {"demo_accounts": False}}
    if instance_dir is not None:
        base["app"] = {"instance_dir": str(instance_dir)}
        base["map"] = {"basemap": {"file": str(instance_dir / "basemap.pmtiles")}}  # never a developer's var/
    return config.load(overrides=deep_merge(base, overrides), env={})


SITE_PHOTO_PNG = bytes.fromhex(  # a 2x2 PNG: the on-site photo a handling report needs (categories.yaml)
    "89504e470d0a1a0a0000000d4948445200000002000000020802000000fdd49a730000001649444154789c638ceab16160606062606060606000000de0012606fdf5760000000049454e44ae426082")


def site_photo_form() -> dict[str, Any]:
    """Multipart fields for POST /api/cases/<id>/evidence with the test's on-site photo."""
    import io

    return {"photo": (io.BytesIO(SITE_PHOTO_PNG), "site.png"), "caption": "现场照片"}


def add_site_photo(session: Any, case_id: int) -> None:
    """The on-site photo as the upload route stores it, for tests that move cases through the services."""
    from dispatch.case.models import Evidence
    from dispatch.db import utcnow

    now = utcnow()
    session.add(Evidence(case_id=case_id, uri="test:site.png", caption="现场照片", taken_at=now, uploaded_at=now,
                         uploaded_by="test"))
