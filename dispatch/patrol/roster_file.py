"""A roster spreadsheet (CSV or XLSX, first sheet) read into roster rows; every bad row named by number and field."""
import datetime as dt
import re
from pathlib import Path
from typing import Any

from dispatch.errors import InputError
from dispatch.hotline.batch import blank, read_csv_grid, read_xlsx_grid
from dispatch.patrol.roster import Problem, RosterRejected, RowProblem, ShiftIn, parse_days

# The columns, by the headings a bureau's roster uses (zh) or their English names.
COLUMNS = {
    "officer": ("账号", "队员账号", "officer", "username"),
    "label": ("班次", "shift", "label"),
    "days": ("上班日", "工作日期", "days"),
    "start": ("上班时间", "开始时间", "start"),
    "end": ("下班时间", "结束时间", "end"),
    "cells": ("责任网格", "网格", "cells"),
}
HEADER_SEARCH_ROWS = 10
CELL_SPLIT = re.compile(r"[\s,;，；、]+")
CELL_RANGE = re.compile(r"^(\d+)-(\d+)$")
MOST_CELLS_IN_RANGE = 1000


def read_roster(data: bytes, filename: str) -> tuple[list[ShiftIn], list[int]]:
    """The rows of a roster file and each one's row number in the spreadsheet."""
    suffix = Path(filename).suffix.lower()
    if suffix == ".csv":
        grid = read_csv_grid(data)
    elif suffix == ".xlsx":
        grid, _ = read_xlsx_grid(data)
    else:
        raise InputError("file", f"cannot import '{suffix}' files; use .csv or .xlsx")
    header_index, columns = find_columns(grid)
    rows, numbers, problems = [], [], []
    for index in range(header_index + 1, len(grid)):
        values = grid[index]
        if all(blank(v) for v in values):
            continue
        number = index + 1  # as the spreadsheet numbers its rows
        row, row_problems = read_row({name: cell(values, column) for name, column in columns.items()}, number)
        problems += row_problems
        if row is not None:
            rows.append(row)
            numbers.append(number)
    if problems:
        raise RosterRejected(problems)
    if not rows:
        raise InputError("file", "the roster has no rows under its header")
    return rows, numbers


def find_columns(grid: list[list[Any]]) -> tuple[int, dict[str, int]]:
    """The header row (the first naming every column, titles above it allowed) and each field's column."""
    for index, row in enumerate(grid[:HEADER_SEARCH_ROWS]):
        names = [str(v).strip().lower() if not blank(v) else "" for v in row]
        found = {field: next((names.index(h.lower()) for h in headings if h.lower() in names), None)
                 for field, headings in COLUMNS.items()}
        if all(column is not None for column in found.values()):
            return index, found  # type: ignore[return-value]
    expected = "、".join(headings[0] for headings in COLUMNS.values())
    raise InputError("file", f"no header row with the columns {expected}")


def cell(values: list[Any], column: int) -> Any:
    return values[column] if column < len(values) else None


def read_row(values: dict[str, Any], number: int) -> tuple[ShiftIn | None, list[Problem]]:
    problems: list[Problem] = []
    parsed: dict[str, Any] = {}
    for field, reader in (("officer", text), ("label", text), ("days", parse_days), ("start", clock), ("end", clock),
                          ("cells", cell_codes)):
        try:
            if blank(values[field]):
                raise RowProblem("empty", "empty")
            parsed[field] = reader(values[field])
        except RowProblem as problem:
            problems.append((number, field, problem))
    if problems:
        return None, problems
    if parsed["start"] == parsed["end"]:
        return None, [(number, "end", RowProblem("ends_at_start", "the shift ends when it starts"))]
    return ShiftIn(username=parsed["officer"], label=parsed["label"], days=parsed["days"], start=parsed["start"],
                   end=parsed["end"], cells=parsed["cells"]), []


def text(value: Any) -> str:
    return str(value).strip()


def clock(value: Any) -> dt.time:
    """A local time: 07:00, 7:00, 07:00:00, or a spreadsheet time (ISO text of a datetime or time)."""
    if isinstance(value, dt.time):
        return value.replace(second=0, microsecond=0)
    raw = str(value).strip().replace("：", ":")
    if "T" in raw:  # a spreadsheet datetime
        raw = raw.split("T", 1)[1]
    match = re.fullmatch(r"(\d{1,2}):(\d{2})(?::\d{2})?", raw)
    if match is None or int(match[1]) > 23 or int(match[2]) > 59:
        raise RowProblem("time", f"'{value}' is not a time of day such as 07:30", value=str(value))
    return dt.time(int(match[1]), int(match[2]))


def cell_codes(value: Any) -> list[str]:
    """Cell codes split by commas, semicolons or spaces; "411502000001-411502000004" is a range of codes."""
    codes: list[str] = []
    for part in CELL_SPLIT.split(str(value).strip()):
        if not part:
            continue
        match = CELL_RANGE.match(part)
        if match is None:
            codes.append(part)
            continue
        first, last = match[1], match[2]
        if len(first) != len(last) or int(last) < int(first) or int(last) - int(first) >= MOST_CELLS_IN_RANGE:
            raise RowProblem("cell_range", f"'{part}' is not a range of cell codes (same length, first to last, "
                             f"under {MOST_CELLS_IN_RANGE} cells)", value=part, most=str(MOST_CELLS_IN_RANGE))
        codes += [str(n).zfill(len(first)) for n in range(int(first), int(last) + 1)]
    return codes
