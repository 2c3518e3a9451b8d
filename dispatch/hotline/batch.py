"""Batch import of work orders (CSV, XLSX, JSON): each row in its own savepoint, a report line per row."""
import csv
import datetime as dt
import io
import json
import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from openpyxl import load_workbook
from openpyxl.worksheet.cell_range import CellRange
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


@dataclass(frozen=True)
class Table:
    """A file's work orders under its (flattened) header."""

    columns: list[str]
    rows: list[dict[str, Any]]


ZIP_MAGIC = b"PK\x03\x04"  # an .xlsx is a zip archive
HEADER_SEARCH_ROWS = 20  # rows above the header (titles, export dates) a spreadsheet may have
BINARY = re.compile(r"[\x00-\x08\x0e-\x1f]")  # control characters no text CSV holds


def read_rows(data: bytes, filename: str, *, profiles: list[ProfileConfig]) -> Table:
    """Work orders of a .csv (UTF-8 or GBK), .xlsx (first sheet) or .json (a list of objects) file.

    The header is the profile's `header_row`, else the first row naming a work-order number field
    of `profiles`; a header over two rows (坐标 over 经度/纬度, merged cells) is flattened.
    """
    suffix = Path(filename).suffix.lower()
    if suffix == ".json":
        return read_json(data)
    if suffix == ".csv":
        grid, merged = read_csv_grid(data), []
    elif suffix == ".xlsx":
        grid, merged = read_xlsx_grid(data)
    else:
        raise InputError("file", f"cannot import '{suffix}' files; use .csv, .xlsx or .json")
    header_rows = {p.header_row for p in profiles if p.header_row is not None}
    table = grid_table(grid, merged, header_row=header_rows.pop() if len(header_rows) == 1 else None,
                       id_fields={p.fields.external_id for p in profiles})
    if len(profiles) == 1:
        require_fields(profiles[0], table.columns)
    return table


def read_json(data: bytes) -> Table:
    try:
        loaded = json.loads(data)
    except (UnicodeDecodeError, ValueError) as error:
        raise InputError("file", f"not readable JSON: {error}") from None
    if not isinstance(loaded, list) or not all(isinstance(item, dict) for item in loaded):
        raise InputError("file", "a JSON import must be a list of work-order objects")
    if not loaded:
        raise InputError("file", "the file is empty: no work orders")
    return Table(columns=list(dict.fromkeys(key for item in loaded for key in item)), rows=loaded)


def read_csv_grid(data: bytes) -> list[list[Any]]:
    if data.startswith(ZIP_MAGIC):
        raise InputError("file", "this is an .xlsx workbook named .csv; upload it as .xlsx")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = data.decode("gb18030")  # Excel in a Chinese locale saves CSV as GBK
        except UnicodeDecodeError:
            raise InputError("file", "not a text CSV file in UTF-8 or GBK") from None
    if BINARY.search(text):
        raise InputError("file", "not a text CSV file: it holds binary data")
    try:
        return [row for row in csv.reader(io.StringIO(text, newline=""))]
    except csv.Error as error:
        raise InputError("file", f"unreadable CSV file: {error}") from None


def read_xlsx_grid(data: bytes) -> tuple[list[list[Any]], list[CellRange]]:
    """The first sheet's cell values (row by row) and its merged ranges."""
    try:
        sheet = load_workbook(io.BytesIO(data), data_only=True).worksheets[0]
    except Exception:  # noqa: BLE001 - any failure to parse an uploaded workbook means it cannot be read
        raise InputError("file", "not a readable .xlsx workbook (corrupt, or another format renamed .xlsx)") from None
    grid = [list(map(cell_text, row)) for row in sheet.iter_rows(values_only=True)]
    return grid, list(sheet.merged_cells.ranges)


def blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def find_header(grid: list[list[Any]], id_fields: set[str]) -> int:
    """0-based index of the first row naming a work-order number field (else the first row with two headings)."""
    searched = grid[:HEADER_SEARCH_ROWS]
    for index, row in enumerate(searched):
        if id_fields & {str(v).strip() for v in row if not blank(v)}:
            return index
    for index, row in enumerate(searched):
        if sum(not blank(v) for v in row) >= 2:
            return index
    return 0


def header_names(grid: list[list[Any]], merged: list[CellRange], top: int) -> tuple[list[str], int]:
    """Column names of the header starting at row `top` (0-based), and the first row below it.

    Merged headings fill their range; a heading over sub-headings (坐标 over 经度, 纬度) names
    the column by its sub-heading, or by both ("坐标/经度") where sub-headings repeat.
    """
    bottom = max([r.max_row - 1 for r in merged if r.min_row - 1 == top] + [top])
    band = [list(row) for row in grid[top:bottom + 1]]
    width = max((len(row) for row in band), default=0)
    for row in band:
        row.extend([None] * (width - len(row)))
    for cell_range in merged:
        if top <= cell_range.min_row - 1 <= bottom:
            heading = grid[cell_range.min_row - 1][cell_range.min_col - 1]
            for r in range(cell_range.min_row - 1, min(cell_range.max_row, bottom + 1)):
                for c in range(cell_range.min_col - 1, min(cell_range.max_col, width)):
                    band[r - top][c] = heading
    paths = [list(dict.fromkeys(str(row[c]).strip() for row in band if not blank(row[c]))) for c in range(width)]
    leaves = Counter(path[-1] for path in paths if path)
    names = [("/".join(path) if leaves[path[-1]] > 1 else path[-1]) if path else "" for path in paths]
    return names, bottom + 1


def grid_table(grid: list[list[Any]], merged: list[CellRange], *, header_row: int | None, id_fields: set[str]) -> Table:
    if not any(not blank(v) for row in grid for v in row):
        raise InputError("file", "the file is empty: no header and no work orders")
    top = header_row - 1 if header_row is not None else find_header(grid, id_fields)
    columns, first = header_names(grid, merged, top)
    rows = [dict(zip(columns, row)) for row in grid[first:] if any(not blank(v) for v in row)]
    for row in rows:
        row.pop("", None)  # cells under no heading
    if not rows:
        raise InputError("file", "the file is empty: a header but no work orders below it")
    return Table(columns=[c for c in columns if c], rows=rows)


def expected_fields(profile: ProfileConfig) -> tuple[list[str], list[str]]:
    """The profile's fields a file must have (number, text), and those it may lack."""
    fields = profile.fields
    required = [fields.external_id, *fields.text]
    optional = [fields.received_at, fields.reporter_name, fields.reporter_phone, *fields.address, fields.category,
                fields.lon, fields.lat]
    return required, [name for name in optional if name is not None]


def missing_fields(profile: ProfileConfig, columns: list[str]) -> list[str]:
    """The profile's optional fields the file's header lacks (their values will be empty)."""
    return [name for name in expected_fields(profile)[1] if name not in columns]


def require_fields(profile: ProfileConfig, columns: list[str]) -> None:
    lacking = [name for name in expected_fields(profile)[0] if name not in columns]
    if lacking:
        found = ", ".join(columns)[:300] or "none"
        raise InputError("file", f"header not found: no column {', '.join(lacking)} (found: {found})")


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
    profiles: dict[str, ProfileConfig], columns: list[str], *, name: str | None, source: str | None,
) -> tuple[str, ProfileConfig]:
    """The named profile, or the first whose work-order number field the file has; `source` files them as another."""
    if name is not None:
        if name not in profiles:
            raise InputError("profile", f"no profile '{name}'; known: {', '.join(profiles)}")
        chosen = name
    else:
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
