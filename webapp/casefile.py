"""The case file as a PDF (ReportLab, with an embedded CJK font) and as a ZIP of the PDF, the evidence and the record."""
import datetime as dt
import io
import json
import zipfile
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Image, KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle
from xml.sax.saxutils import escape

from config.casefile import CaseFileConfig
from dispatch.evidence_store import EvidenceStore
from webapp.i18n import MESSAGES

FONT = "CaseFileCJK"
MARGIN = 18 * mm


def register_font(config: CaseFileConfig) -> None:
    """Register the CJK face once; a missing font file is named."""
    if FONT in pdfmetrics.getRegisteredFontNames():
        return
    if not Path(config.font_file).is_file():
        raise FileNotFoundError(f"casefile.font_file {config.font_file} not found: install fonts-wqy-zenhei "
                                "(`make install`) or point casefile.font_file at a TrueType CJK font")
    pdfmetrics.registerFont(TTFont(FONT, config.font_file, subfontIndex=config.font_index))


class Layout:
    """Labels in one language, times in the bureau's zone, and the paragraph styles."""

    def __init__(self, language: str, zone: ZoneInfo) -> None:
        self.words, self.zone = MESSAGES[language], zone
        self.body = ParagraphStyle("body", fontName=FONT, fontSize=9, leading=13, wordWrap="CJK")
        self.small = ParagraphStyle("small", parent=self.body, fontSize=7.5, leading=10)
        self.heading = ParagraphStyle("heading", parent=self.body, fontSize=12, leading=18, spaceBefore=8, spaceAfter=4)
        self.title = ParagraphStyle("title", parent=self.body, fontSize=17, leading=24, alignment=1, spaceAfter=6)

    def t(self, key: str, **values: Any) -> str:
        return self.words.get(key, key).format(**values)

    def time(self, value: str | None) -> str:
        if not value:
            return self.t("common.none")
        return dt.datetime.fromisoformat(value).astimezone(self.zone).strftime("%Y-%m-%d %H:%M:%S")

    def p(self, text: Any, style: ParagraphStyle | None = None) -> Paragraph:
        shown = self.t("common.none") if text in (None, "") else str(text)
        return Paragraph(escape(shown).replace("\n", "<br/>"), style or self.body)

    def table(self, rows: list[list[Any]], widths: list[float], header: bool = True) -> Table:
        cells = [[cell if isinstance(cell, Paragraph) else self.p(cell) for cell in row] for row in rows]
        table = Table(cells, colWidths=widths, repeatRows=1 if header else 0)
        style = [("GRID", (0, 0), (-1, -1), 0.4, colors.grey), ("VALIGN", (0, 0), (-1, -1), "TOP")]
        if header:
            style.append(("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8edf3")))
        table.setStyle(TableStyle(style))
        return table


def summary_part(layout: Layout, record: dict) -> list:
    case, t = record["case"], layout.t
    result = t(f"result.{case['handling_result']}") if case["handling_result"] else None
    pairs = [
        (t("field.category"), f"{case['category']} {case['category_name'] or ''}"),
        (t("field.status"), t(f"status.{case['status']}")),
        (t("field.cell"), case["cell_code"]), (t("field.squad"), f"{case['squad_name'] or ''} ({case['squad_code']})"),
        (t("field.address"), case["address"]), (t("casefile.coordinates"), f"{case['lon']:.6f}, {case['lat']:.6f} (WGS-84)"),
        (t("field.reported_at"), layout.time(case["reported_at"])),
        (t("casefile.registered_at"), layout.time(case["registered_at"])),
        (t("field.deadline_at"), layout.time(case["deadline_at"])),
        (t("casefile.handled_at"), layout.time(case["handled_at"])),
        (t("casefile.closed_at"), layout.time(case["closed_at"])),
        (t("field.result"), result), (t("field.rework"), case["rework_count"]),
        (t("casefile.overdue"), t("casefile.yes") if case["overdue"] else t("casefile.no")),
    ]
    if case["plate"]:
        colour = t(f"plate.colour.{case['plate_colour']}") if case["plate_colour"] else ""
        pairs.append((t("field.plate"), f"{case['plate']} {colour}".strip()))
    if case["leniency"]:
        pairs.append((t("plate.leniency"), t(f"result.{case['leniency']}")))
    return [layout.p(t("casefile.summary"), layout.heading),
            layout.table([list(pair) for pair in pairs], [40 * mm, 134 * mm], header=False), *notice_part(layout, record)]


def notice_part(layout: Layout, record: dict) -> list:
    """The off-site notice (非现场执法告知) when the case was handled by one."""
    notice, t = record.get("offsite_notice"), layout.t
    if not notice:
        return []
    pairs = [(t("field.plate"), notice["plate"]), (t("plate.observed_at"), layout.time(notice["observed_at"])),
             (t("field.address"), notice["address"] or f"{notice['lon']:.6f}, {notice['lat']:.6f}"),
             (t("field.cell"), notice["cell_code"]),
             (t("plate.photos"), ", ".join(f"#{photo}" for photo in notice["photo_ids"])),
             (t("plate.legal_basis"), notice["legal_basis"])]
    return [layout.p(t("plate.notice"), layout.heading),
            layout.table([list(pair) for pair in pairs], [40 * mm, 134 * mm], header=False)]


def tickets_part(layout: Layout, record: dict) -> list:
    t = layout.t
    rows = [[t("field.id"), t("field.source"), t("field.reported_at"), t("field.text"), t("field.reporter")]]
    for ticket in record["tickets"]:
        text = ticket["text"] + (f"\n{ticket['address']}" if ticket["address"] else "")
        if ticket.get("sensor"):
            text += "\n" + ", ".join(f"{key}: {value}" for key, value in ticket["sensor"].items())
        reporter = "\n".join(filter(None, [ticket["reporter"]["name"], ticket["reporter"]["phone"]]))
        rows.append([f"#{ticket['id']}\n{ticket['external_id']}", t(f"source.{ticket['source']}"),
                     layout.time(ticket["received_at"]), text, reporter])
    return [layout.p(t("casefile.tickets"), layout.heading),
            layout.table(rows, [24 * mm, 22 * mm, 30 * mm, 64 * mm, 34 * mm])]


def timeline_part(layout: Layout, record: dict) -> list:
    t = layout.t
    rows = [[t("casefile.time"), t("casefile.step"), t("casefile.actor"), t("casefile.note")]]
    for entry in record["timeline"]:
        details = [f"{key}: {value}" for key, value in entry["data"].items()]
        note = "\n".join(filter(None, [entry["note"], "; ".join(details)]))
        actor = entry["actor"] + (f"\n{t('role.' + entry['role'])}" if entry["role"] else "")
        rows.append([layout.time(entry["at"]), t(f"event.{entry['kind']}"), actor, note])
    return [layout.p(t("casefile.timeline"), layout.heading),
            layout.table(rows, [32 * mm, 20 * mm, 36 * mm, 86 * mm])]


def signoffs_part(layout: Layout, record: dict) -> list:
    t = layout.t
    rows = [[t("casefile.step"), t("casefile.approver"), t("casefile.time"), t("signoff.opinion_label")]]
    for entry in record["signoffs"]:
        action, _, result = entry["data"]["step"].partition(":")
        step = t(f"action.{action}") + (f" · {t('result.' + result)}" if result else "")
        approver = entry["actor"] + (f" ({t('role.' + entry['role'])})" if entry["role"] else "")
        rows.append([step, approver, layout.time(entry["at"]), entry["note"]])
    if len(rows) == 1:
        return [layout.p(t("casefile.signoffs"), layout.heading), layout.p(t("casefile.no_signoffs"))]
    return [layout.p(t("casefile.signoffs"), layout.heading), layout.table(rows, [34 * mm, 36 * mm, 32 * mm, 72 * mm])]


def evidence_part(layout: Layout, record: dict, store: EvidenceStore, width_mm: float) -> list:
    t = layout.t
    parts: list = [layout.p(t("casefile.evidence"), layout.heading)]
    for item in record["evidence"]:
        caption = layout.p(f"#{item['id']} · {t('casefile.taken_at')} {layout.time(item['taken_at'])} · "
                           f"{t('field.source')} {t('source.' + item['source'])} · {item['caption'] or ''}", layout.small)
        path = store.path_of(item["uri"])
        if path is None:
            parts.append(KeepTogether([caption, layout.p(item["uri"], layout.small)]))
            continue
        image = Image(str(path), hAlign="LEFT")
        scale = width_mm * mm / image.imageWidth
        image.drawWidth, image.drawHeight = width_mm * mm, image.imageHeight * scale
        parts.append(KeepTogether([image, caption, Spacer(1, 4 * mm)]))
    if not record["evidence"]:
        parts.append(layout.p(t("console.no_evidence")))
    return parts


def followup_part(layout: Layout, record: dict) -> list:
    t = layout.t
    parts: list = [layout.p(t("casefile.followup"), layout.heading)]
    for rating in record["ratings"]:
        parts.append(layout.p(f"{layout.time(rating['at'])} {t('rating.' + rating['rating'])} "
                              f"({rating['actor']}) {rating['note'] or ''}"))
    for reply in record["hotline_replies"]:
        parts.append(layout.p(f"{t('casefile.reply')} #{reply['ticket_id']}: {reply['status']} "
                              f"{layout.time(reply['sent_at'])}"))
    if len(parts) == 1:
        parts.append(layout.p(t("common.none")))
    return parts


def chain_part(layout: Layout, record: dict) -> list:
    t, chain = layout.t, record["chain"]
    state = t("casefile.chain_intact") if chain["intact"] else t("casefile.chain_broken")
    return [layout.p(t("casefile.chain"), layout.heading),
            layout.p(t("casefile.chain_text", entries=chain["entries"], state=state)),
            layout.p(chain["head"], ParagraphStyle("hash", parent=layout.body, fontName="Courier", fontSize=8.5))]


def page_decorator(layout: Layout, record: dict):
    """Draws the header (case number, generation time) and the footer (page n of m) on every page."""
    header = layout.t("casefile.header", id=record["case"]["id"], when=layout.time(record["generated_at"]))

    class NumberedCanvas(Canvas):
        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, **kwargs)
            self.pages: list[dict] = []

        def showPage(self) -> None:
            self.pages.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            for state in self.pages:
                self.__dict__.update(state)
                self.setFont(FONT, 8)
                self.setFillColor(colors.grey)
                self.drawString(MARGIN, A4[1] - 11 * mm, header)
                self.drawRightString(A4[0] - MARGIN, 9 * mm,
                                     layout.t("casefile.page", page=self._pageNumber, pages=len(self.pages)))
                super().showPage()
            super().save()

    return NumberedCanvas


def case_file_pdf(record: dict, *, language: str, zone: ZoneInfo, store: EvidenceStore,
                  config: CaseFileConfig) -> bytes:
    """The case file as PDF bytes."""
    register_font(config)
    layout = Layout(language, zone)
    buffer = io.BytesIO()
    document = SimpleDocTemplate(buffer, pagesize=A4, leftMargin=MARGIN, rightMargin=MARGIN, topMargin=16 * mm,
                                 bottomMargin=16 * mm, title=layout.t("casefile.title", id=record["case"]["id"]),
                                 author="GridPatrol")
    story = [layout.p(layout.t("casefile.title", id=record["case"]["id"]), layout.title)]
    for part in (summary_part(layout, record), tickets_part(layout, record), timeline_part(layout, record),
                 signoffs_part(layout, record), evidence_part(layout, record, store, config.photo_width_mm),
                 followup_part(layout, record), chain_part(layout, record)):
        story.extend(part)
    document.build(story, canvasmaker=page_decorator(layout, record))
    return buffer.getvalue()


def case_file_zip(record: dict, pdf: bytes, store: EvidenceStore) -> bytes:
    """The PDF, the original evidence files and the record as JSON, in one ZIP."""
    buffer = io.BytesIO()
    case_id = record["case"]["id"]
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(f"case-{case_id}.pdf", pdf)
        archive.writestr(f"case-{case_id}.json", json.dumps(record, ensure_ascii=False, indent=1))
        for item in record["evidence"]:
            path = store.path_of(item["uri"])
            if path is not None:
                archive.write(path, f"evidence/{item['id']}{path.suffix}")
    return buffer.getvalue()
