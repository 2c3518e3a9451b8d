"""Batch import of work orders (CSV, XLSX, JSON): each row in its own savepoint, a report line per row."""
import csv
import datetime as dt
import io
import json
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from openpyxl import load_workbook
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from config.hotline import HotlineConfig, ProfileConfig
from dispatch.address.matching import AddressMatcher
from dispatch.bus import Bus
from dispatch.case.events import OUTBOX_KEY, commit_and_publish
from dispatch.context import DispatchContext
from dispatch.errors import DispatchError, InputError
from dispatch.hotline.intake import take_work_order
from dispatch.hotline.mapping import read_work_order
from grid.crs import CoordSys, to_wgs84

REFUSED = "refused"
COMMIT_EVERY = 200  # rows per commit: a crash loses at most this much work, and a rerun skips what was kept


@dataclass(frozen=True)
class RowReport:
    row: int  # 1 = the first work order
    external_id: str | None
    outcome: str  # created, merged, duplicate, unlocated or refused
    reason: str | None
    ticket_id: int | None
    case_id: int | None


def cell_text(value: Any) -> Any:
    """Spreadsheet cells as the text a CSV would hold: whole numbers without '.0', times in ISO 8601."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.isoformat()
    return value


def read_rows(data: bytes, filename: str) -> list[dict[str, Any]]:
    """Work orders of a .csv (UTF-8 or GBK), .xlsx (first sheet) or .json (a list of objects) file."""
    suffix = Path(filename).suffix.lower()
    if suffix == ".csv":
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = data.decode("gb18030")  # Excel in a Chinese locale saves CSV as GBK
        return list(csv.DictReader(io.StringIO(text, newline="")))
    if suffix == ".xlsx":
        sheet = load_workbook(io.BytesIO(data), read_only=True, data_only=True).worksheets[0]
        rows = sheet.iter_rows(values_only=True)
        header = [str(name).strip() if name is not None else "" for name in next(rows, [])]
        return [dict(zip(header, map(cell_text, row))) for row in rows if any(v is not None for v in row)]
    if suffix == ".json":
        loaded = json.loads(data)
        if not isinstance(loaded, list) or not all(isinstance(item, dict) for item in loaded):
            raise InputError("file", "a JSON import must be a list of work-order objects")
        return loaded
    raise InputError("file", f"cannot import '{suffix}' files; use .csv, .xlsx or .json")


def import_rows(
    *, session: Session, bus: Bus, ctx: DispatchContext, config: HotlineConfig, profile: ProfileConfig,
    rows: Iterable[dict[str, Any]], matcher: AddressMatcher, actor: str,
    on_row: Callable[[RowReport], None] | None = None,
) -> list[RowReport]:
    """Take in every row; a refused row is rolled back alone and reported with its reason, the rest go on."""
    reports = []
    for number, row in enumerate(rows, start=1):
        outbox = session.info.setdefault(OUTBOX_KEY, [])
        kept = len(outbox)
        try:
            with session.begin_nested():
                taken = take_work_order(session=session, ctx=ctx, config=config, profile=profile, row=row,
                                        matcher=matcher, actor=actor)
            intake = taken.intake
            report = RowReport(number, intake.ticket.external_id, intake.outcome.value, intake.ticket.unlocated_reason,
                               intake.ticket.id, intake.case.id if intake.case else None)
        except (DispatchError, ValueError, SQLAlchemyError) as error:
            del outbox[kept:]  # the savepoint is gone, so are its timeline rows: publish none of them
            reason = error.message if isinstance(error, InputError) else str(error).splitlines()[0]
            field = f"{error.field}: " if isinstance(error, InputError) else ""
            external_id = row.get(profile.fields.external_id)
            report = RowReport(number, str(external_id) if external_id is not None else None, REFUSED,
                               f"{field}{reason}", None, None)
        reports.append(report)
        if on_row is not None:
            on_row(report)
        if number % COMMIT_EVERY == 0:
            commit_and_publish(session, bus)
    commit_and_publish(session, bus)
    return reports


def summary(reports: list[RowReport]) -> dict[str, Any]:
    """Rows by outcome, and refused rows by reason."""
    return {
        "rows": len(reports),
        "outcomes": dict(Counter(r.outcome for r in reports)),
        "refused": dict(Counter(r.reason for r in reports if r.outcome == REFUSED).most_common()),
    }


def write_report(reports: list[RowReport], path: Path) -> None:
    """One line per row, as CSV or (for a .json path) JSON."""
    rows = [asdict(report) for report in reports]
    if path.suffix.lower() == ".json":
        path.write_text(json.dumps({"summary": summary(reports), "rows": rows}, ensure_ascii=False, indent=1),
                        encoding="utf-8")
        return
    with path.open("w", encoding="utf-8-sig", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=list(RowReport.__dataclass_fields__))
        writer.writeheader()
        writer.writerows(rows)


def choose_profile(
    profiles: dict[str, ProfileConfig], rows: list[dict[str, Any]], *, name: str | None, source: str | None,
) -> tuple[str, ProfileConfig]:
    """The named profile, or the first whose work-order number field the rows have; `source` files them as another."""
    if name is not None:
        if name not in profiles:
            raise InputError("profile", f"no profile '{name}'; known: {', '.join(profiles)}")
        chosen = name
    else:
        columns = set(rows[0]) if rows else set()
        fitting = [key for key, profile in profiles.items() if profile.fields.external_id in columns
                   and all(field in columns for field in profile.fields.text)]
        if not fitting:
            raise InputError("profile", f"no profile fits columns {', '.join(sorted(columns))[:300]}; name one")
        chosen = fitting[0]
    profile = profiles[chosen]
    return chosen, profile.model_copy(update={"source": source}) if source else profile


def row_points(rows: list[dict[str, Any]], profile: ProfileConfig) -> tuple[list[float], list[float]]:
    """WGS-84 coordinates of the rows that give readable ones."""
    lons, lats = [], []
    for row in rows:
        try:
            location = read_work_order(row, profile).location
        except InputError:
            continue
        if location is not None:
            lon, lat = to_wgs84(location["lon"], location["lat"], CoordSys.parse(location["crs"]))
            lons.append(float(lon))
            lats.append(float(lat))
    return lons, lats
