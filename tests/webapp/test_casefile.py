"""The case file (一案一档): a case run through the whole loop exports a PDF (rendered with poppler) and a ZIP."""
import io
import json
import shutil
import subprocess
import zipfile
from dataclasses import replace
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import select

from dispatch.account.enums import Role
from dispatch.case.models import CaseEvent
from dispatch.case.signoff import SignoffRules
from tests.factories import DEMO_CENTRE_WGS84, ticket_payload
from tests.requirements import missing
from webapp import create_app

LON, LAT = DEMO_CENTRE_WGS84
RULES = SignoffRules(signer_roles=frozenset({Role.ADMIN}), steps={"*": frozenset({"close"})})
RENDERED = Path(__file__).resolve().parents[2] / "var" / "test-casefile"  # the pages, for a person to look at


@pytest.fixture
def app(platform):
    app = create_app(platform=replace(platform, ctx=replace(platform.ctx, signoffs=RULES)))
    app.config["TESTING"] = True
    return app


def poppler(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        missing(f"{tool} (Debian poppler-utils)")
    return path


def jpeg(color: tuple[int, int, int]) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (640, 480), color).save(buffer, "JPEG")
    return buffer.getvalue()


@pytest.fixture
def closed_case(client, login) -> dict:
    """A case with a merged ticket, an on-site photo, a sign-off and a rating, closed."""
    case = client.post("/api/tickets", json=ticket_payload(lon=LON, lat=LAT)).json["case"]
    assert client.post("/api/tickets", json=ticket_payload(lon=LON, lat=LAT, text="又有摊贩在路口")).json["outcome"] == "merged"
    leader, admin = login("squad_leader", case["squad_code"]), login("admin")
    steps = [(client, "register", {}), (client, "dispatch", {}), (leader, "accept", {})]
    for who, action, body in steps:
        assert who.post(f"/api/cases/{case['id']}/transitions", json={"action": action, **body}).status_code == 200
    upload = leader.post(f"/api/cases/{case['id']}/evidence", content_type="multipart/form-data",
                         data={"photo": (io.BytesIO(jpeg((200, 60, 40))), "site.jpg"), "caption": "现场已清理"})
    assert upload.status_code == 201, upload.json
    for who, action, body in [(leader, "handle", {"result": "persuaded", "note": "劝离摊贩"}), (client, "verify", {})]:
        assert who.post(f"/api/cases/{case['id']}/transitions", json={"action": action, **body}).status_code == 200
    assert admin.post(f"/api/cases/{case['id']}/signoffs", json={"step": "close", "opinion": "同意结案，材料齐全"}).status_code == 201
    assert client.post(f"/api/cases/{case['id']}/transitions", json={"action": "close"}).status_code == 200
    rated = client.post(f"/api/hotline/cases/{case['id']}/rating", json={"rating": "satisfied", "note": "回访满意"})
    assert rated.status_code == 201, rated.json
    return case


def test_pdf_of_the_whole_loop_renders_with_chinese_text(client, closed_case, platform, tmp_path) -> None:
    response = client.get(f"/api/cases/{closed_case['id']}/file?format=pdf&lang=zh-CN")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    pdf = tmp_path / "case.pdf"
    pdf.write_bytes(response.data)
    text = subprocess.run([poppler("pdftotext"), "-layout", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout
    with platform.sessions() as session:
        head = session.scalars(select(CaseEvent.hash).where(CaseEvent.case_id == closed_case["id"])
                               .order_by(CaseEvent.id.desc())).first()
    assert f"案件 #{closed_case['id']}" in text and "电子卷宗" in text
    for shown in ("0501 无照经营游商", "劝离摊贩", "同意结案，材料齐全", "现场已清理", "又有摊贩在路口", "满意",
                  "张三", "13812341234", "第1页/共", head):
        assert shown in text, shown
    RENDERED.mkdir(parents=True, exist_ok=True)
    subprocess.run([poppler("pdftoppm"), "-png", "-r", "70", str(pdf), str(RENDERED / "page")], check=True)
    pages = sorted(RENDERED.glob("page-*.png"))
    assert len(pages) >= 2
    with Image.open(pages[0]) as first:
        assert first.width > 500 and len(first.getcolors(1 << 20)) > 10  # drawn, not blank


def test_squad_members_file_masks_callers(login, closed_case, tmp_path) -> None:
    leader = login("squad_leader", closed_case["squad_code"])
    response = leader.get(f"/api/cases/{closed_case['id']}/file?format=pdf")
    pdf = tmp_path / "case.pdf"
    pdf.write_bytes(response.data)
    text = subprocess.run([poppler("pdftotext"), str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "138****1234" in text and "13812341234" not in text and "张三" not in text


def test_zip_holds_the_pdf_the_original_photo_and_the_record(client, closed_case) -> None:
    response = client.get(f"/api/cases/{closed_case['id']}/file?format=zip")
    assert response.status_code == 200 and response.mimetype == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    names = archive.namelist()
    record = json.loads(archive.read(f"case-{closed_case['id']}.json"))
    assert archive.read(f"case-{closed_case['id']}.pdf").startswith(b"%PDF")
    photo = next(item for item in record["evidence"] if item["source"] == "on_site")
    with Image.open(io.BytesIO(archive.read(f"evidence/{photo['id']}.jpg"))) as image:
        assert image.size == (640, 480)
    assert [name for name in names if name.startswith("evidence/")] == [f"evidence/{photo['id']}.jpg"]
    assert record["chain"]["intact"] and record["chain"]["head"] == record["timeline"][-1]["hash"]
    assert [s["note"] for s in record["signoffs"]] == ["同意结案，材料齐全"]
    assert record["ratings"][0]["rating"] == "satisfied" and len(record["tickets"]) == 2


def test_other_squads_and_bad_formats_are_refused(login, client, closed_case) -> None:
    other = "SQ01" if closed_case["squad_code"] != "SQ01" else "SQ02"
    assert login("officer", other).get(f"/api/cases/{closed_case['id']}/file").status_code == 403
    bad = client.get(f"/api/cases/{closed_case['id']}/file?format=docx")
    assert bad.status_code == 422 and "format" in str(bad.json)
