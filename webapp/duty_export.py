"""The duty log (个人勤务台账) as an XLSX workbook: one row per officer, each squad's sum below its officers."""
import io

from openpyxl import Workbook
from openpyxl.styles import Font

from webapp.i18n import translate

COLUMNS = ("squad_code", "username", "name", "patrol_h", "distance_km", "check_ins_in_beat", "check_ins_outside",
           "cases_found", "cases_handled", "on_time_rate")


def figures(row: dict) -> list:
    rate = row.get("on_time_rate")
    return [round(row.get("patrol_s", 0) / 3600, 2), round(row.get("distance_m", 0) / 1000, 3),
            row.get("check_ins_in_beat", 0), row.get("check_ins_outside", 0), row.get("cases_found", 0),
            row.get("cases_handled", 0), None if rate is None else round(rate, 4)]


def duty_workbook(log: dict, *, language: str) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = translate(language, "duty.title")[:31]
    sheet.append([translate(language, "duty.period_" + log["period"]), log["since"], log["until"]])
    sheet.append([translate(language, f"duty.col_{column}") for column in COLUMNS])
    for cell in sheet[2]:
        cell.font = Font(bold=True)
    for squad in log["squads"]:
        for officer in squad["officers"]:
            sheet.append([squad["squad_code"], officer["username"], officer["name"], *figures(officer)])
        sheet.append([squad["squad_code"], translate(language, "duty.total"), "", *figures(squad["total"])])
        for cell in sheet[sheet.max_row]:
            cell.font = Font(bold=True)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
