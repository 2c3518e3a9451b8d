"""Work-order files as hotlines really send them: broken files, title rows, two-level headers, empty sheets."""
import io
import os
import time
import uuid

import pytest
from openpyxl import Workbook

from config.hotline import ProfileConfig
from dispatch.account.enums import Role
from dispatch.account.service import create_user
from dispatch.errors import InputError
from dispatch.hotline.batch import missing_fields, read_rows
from webapp.tasks import import_runner

HEADER = ["工单编号", "来电时间", "诉求人", "联系电话", "诉求内容", "诉求地址", "诉求类型", "经度", "纬度"]
ORDER = ["XL-1", "2026-11-20 09:30:00", "王先生", "13900002222", "门口有流动摊贩占道经营", "浉河区新华路十二号",
         "城管执法", 114.0735, 32.1232]


def xlsx(build) -> bytes:
    """The bytes of a workbook that `build(sheet)` filled."""
    book = Workbook()
    build(book.active)
    data = io.BytesIO()
    book.save(data)
    return data.getvalue()


def plain_sheet(sheet) -> None:
    sheet.append(HEADER)
    sheet.append(ORDER)


def titled_sheet(sheet) -> None:
    sheet.append(["信阳市12345政务服务热线工单导出（2026年11月）"])
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(HEADER))
    sheet.append(["导出时间：2026-11-21"])
    sheet.append(HEADER)
    sheet.append(ORDER)


def two_level_sheet(sheet) -> None:
    """坐标 over 经度/纬度; every other heading merged down over both header rows."""
    sheet.append(HEADER[:7] + ["坐标", None])
    sheet.append([None] * 7 + ["经度", "纬度"])
    for column in range(1, 8):
        sheet.merge_cells(start_row=1, start_column=column, end_row=2, end_column=column)
    sheet.merge_cells(start_row=1, start_column=8, end_row=1, end_column=9)
    sheet.append(ORDER)


def profile_12345(platform) -> ProfileConfig:
    return platform.settings.hotline.profiles["12345"]


@pytest.fixture
def sample_platform(hotline_platform):
    return hotline_platform


@pytest.mark.parametrize("build", [titled_sheet, two_level_sheet])
def test_title_rows_and_two_level_headers_are_read(sample_platform, build) -> None:
    [row] = read_rows(xlsx(build), "orders.xlsx", profiles=[profile_12345(sample_platform)]).rows
    assert row["工单编号"] == "XL-1" and row["诉求内容"] == "门口有流动摊贩占道经营"
    assert (float(row["经度"]), float(row["纬度"])) == (114.0735, 32.1232)  # not dropped under 坐标


def test_header_row_may_be_named_in_the_profile(sample_platform) -> None:
    profile = profile_12345(sample_platform).model_copy(update={"header_row": 3})
    [row] = read_rows(xlsx(titled_sheet), "orders.xlsx", profiles=[profile]).rows
    assert row["工单编号"] == "XL-1"
    wrong = profile.model_copy(update={"header_row": 1})
    with pytest.raises(InputError, match="工单编号"):
        read_rows(xlsx(titled_sheet), "orders.xlsx", profiles=[wrong])


def test_an_xlsx_without_the_header_says_which_fields_it_lacks(sample_platform) -> None:
    def other_layout(sheet) -> None:
        sheet.append(["编号", "内容"])
        sheet.append(["1", "摆摊"])

    with pytest.raises(InputError) as refused:
        read_rows(xlsx(other_layout), "orders.xlsx", profiles=[profile_12345(sample_platform)])
    assert "工单编号" in refused.value.message and "诉求内容" in refused.value.message


def test_missing_optional_fields_are_named(sample_platform) -> None:
    def no_coordinates(sheet) -> None:
        sheet.append(HEADER[:7])
        sheet.append(ORDER[:7])

    profile = profile_12345(sample_platform)
    table = read_rows(xlsx(no_coordinates), "orders.xlsx", profiles=[profile])
    assert len(table.rows) == 1 and missing_fields(profile, table.columns) == ["经度", "纬度"]


def random_bytes() -> bytes:
    return os.urandom(4096)


def corrupt_xlsx() -> bytes:
    data = xlsx(plain_sheet)
    return data[: len(data) // 2]


def empty_xlsx() -> bytes:
    return xlsx(lambda sheet: None)


def header_only_xlsx() -> bytes:
    return xlsx(lambda sheet: sheet.append(HEADER))


BAD_FILES = [
    ("random.csv", random_bytes, "file"),
    ("random.xlsx", random_bytes, "xlsx"),
    ("renamed.csv", lambda: xlsx(plain_sheet), "xlsx"),
    ("corrupt.xlsx", corrupt_xlsx, "xlsx"),
    ("broken.json", lambda: b'[{"a": ', "JSON"),
    ("empty.csv", lambda: b"", "empty"),
    ("empty.xlsx", empty_xlsx, "empty"),
    ("header-only.xlsx", header_only_xlsx, "empty"),
]


@pytest.mark.parametrize(("name", "make", "said"), BAD_FILES)
def test_a_bad_upload_is_a_clear_422(hotline_client, name, make, said) -> None:
    response = hotline_client.post("/api/hotline/imports", data={"profile": "12345", "file": (io.BytesIO(make()), name)},
                                   content_type="multipart/form-data")
    assert response.status_code == 422, response.data[:300]
    assert said in response.json["message"] and response.json["errors"]["json"]["file"]


@pytest.mark.parametrize(("name", "make", "said"), BAD_FILES)
def test_a_bad_file_on_the_command_line_is_one_error_line(sqlite_app, tmp_path, name, make, said) -> None:
    path = tmp_path / name
    path.write_bytes(make())
    result = sqlite_app().test_cli_runner().invoke(
        args=["hotline", "import", str(path), "--profile", "12345"])
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)  # no traceback
    [error] = [line for line in result.output.splitlines() if line.startswith("Error")]
    assert said in error


def many_orders_csv(count: int) -> bytes:
    lines = [",".join(HEADER)]
    for number in range(count):
        lines.append(",".join(map(str, [f"BIG-{number}", *ORDER[1:7], 114.0735 + number * 1e-5, 32.1232])))
    return ("\n".join(lines) + "\n").encode("utf-8")


def test_a_long_import_runs_as_a_job_any_process_can_follow(sqlite_app) -> None:
    app = sqlite_app()
    dispatcher, leader = sign_in(app, "dispatcher"), sign_in(app, "squad_leader", "SQ01")
    other_process = sign_in(sqlite_app(), "admin")  # another app on the same database: another web process
    response = dispatcher.post("/api/hotline/imports", content_type="multipart/form-data",
                               data={"profile": "12345", "file": (io.BytesIO(many_orders_csv(450)), "big.csv")})
    assert response.status_code == 202 and response.json["total"] == 450
    job_url = f"/api/hotline/imports/{response.json['id']}"
    assert response.json["status"] in ("queued", "running") and response.json["done"] < 450  # the request did not wait
    assert dispatcher.get(f"{job_url}/report.csv").status_code in (409, 200)
    seen = []
    while not seen or seen[-1]["status"] in ("queued", "running"):
        seen.append(other_process.get(job_url).json)
        time.sleep(0.05)
    assert seen[-1]["status"] == "done" and seen[-1]["done"] == 450
    assert any(0 < job["done"] < 450 for job in seen)  # progress came in steps
    assert seen[-1]["summary"]["rows"] == 450
    report = other_process.get(f"{job_url}/report.csv")
    assert report.get_data(as_text=True).count("\n") == 451
    assert other_process.get("/api/hotline/imports").json[0]["id"] == response.json["id"]
    assert leader.get(job_url).status_code == 403 and leader.get("/api/hotline/imports").status_code == 403
    import_runner(app).wait(60)


def sign_in(app, role: str, squad: str | None = None):
    username = f"{role}-{uuid.uuid4().hex[:6]}"
    with app.extensions["gridpatrol"].sessions() as session:
        create_user(session=session, username=username, password="pw-for-tests", role=Role(role), squad_code=squad)
        session.commit()
    client = app.test_client()
    signed_in = client.post("/api/auth/login", json={"username": username, "password": "pw-for-tests"})
    assert signed_in.status_code == 200
    client.environ_base["HTTP_X_CSRFTOKEN"] = signed_in.json["csrf_token"]  # as the pages send it with writes
    return client
