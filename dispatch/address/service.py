"""Loading the standard-address table, matching against it, and the candidates kept for a ticket."""
import csv
from collections.abc import Iterable
from pathlib import Path

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from config.hotline import AddressConfig
from dispatch.address.matching import AddressMatcher, Candidate
from dispatch.address.models import AddressCandidate, StandardAddress
from dispatch.address.normalize import address_key
from dispatch.errors import InputError
from grid.crs import CoordSys, to_wgs84

ADDRESS_COLUMNS = ("address", "lon", "lat")


def read_address_csv(path: Path) -> list[dict[str, str]]:
    """Rows of a standard-address CSV (UTF-8, header address,lon,lat)."""
    with path.open(encoding="utf-8-sig", newline="") as file:
        reader = csv.DictReader(file)
        missing = [column for column in ADDRESS_COLUMNS if column not in (reader.fieldnames or [])]
        if missing:
            raise InputError("file", f"{path.name} lacks {', '.join(missing)}; needs {', '.join(ADDRESS_COLUMNS)}")
        return list(reader)


def store_addresses(*, session: Session, rows: Iterable[dict[str, str]], crs: CoordSys, config: AddressConfig) -> int:
    """Replace the table with `rows` (coordinates in `crs`, kept as WGS-84); returns how many were stored."""
    records = {}
    for number, row in enumerate(rows, start=2):  # line 1 is the header
        try:
            lon, lat = (float(v) for v in to_wgs84(float(row["lon"]), float(row["lat"]), crs))
        except (TypeError, ValueError) as exc:
            raise InputError("file", f"line {number}: bad coordinates ({exc})") from exc
        address = row["address"].strip()
        records[address] = {"address": address, "key": address_key(address, config.prefixes), "lon": lon, "lat": lat}
    session.execute(delete(StandardAddress))
    if records:
        session.execute(insert(StandardAddress), list(records.values()))
    return len(records)


def load_matcher(*, session: Session, config: AddressConfig) -> AddressMatcher:
    rows = session.execute(select(StandardAddress.address, StandardAddress.lon, StandardAddress.lat))
    return AddressMatcher([tuple(row) for row in rows], prefixes=config.prefixes)


def keep_candidates(*, session: Session, ticket_id: int, candidates: list[Candidate]) -> None:
    session.execute(delete(AddressCandidate).where(AddressCandidate.ticket_id == ticket_id))
    session.add_all(
        AddressCandidate(ticket_id=ticket_id, rank=rank, address=c.address, lon=c.lon, lat=c.lat, score=c.score)
        for rank, c in enumerate(candidates, start=1)
    )


def ticket_candidates(*, session: Session, ticket_id: int) -> list[AddressCandidate]:
    query = select(AddressCandidate).where(AddressCandidate.ticket_id == ticket_id).order_by(AddressCandidate.rank)
    return list(session.scalars(query))
