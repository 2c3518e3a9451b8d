"""The hotline commands as an operator runs them: import with a report (twice), address tables, replies."""
import csv
import json

import pytest

from dispatch.address.demo import demo_addresses
from tests.hotline.conftest import SECRET
from tests.requirements import shared_path

VENDORS = "data/tickets/nyc311/nyc311_vendor_complaints_sample100_ameliedall.csv"


@pytest.fixture
def boundary_app(sqlite_app):
    return sqlite_app(city={"source": "boundary"})


def test_import_builds_a_grid_reports_every_row_and_is_idempotent(boundary_app, tmp_path) -> None:
    runner = boundary_app.test_cli_runner()
    report = tmp_path / "report.json"
    args = ["hotline", "import", str(shared_path(VENDORS)), "--source", "hotline_12345", "--report", str(report)]
    first = runner.invoke(args=[*args, "--extent-grid", "1000"])
    assert first.exit_code == 0, first.output
    assert "cells added around the records" in first.output and "importing (nyc311_vendors)" in first.output
    written = json.loads(report.read_text(encoding="utf-8"))
    assert written["summary"]["outcomes"] == {"created": 97, "unlocated": 3} and len(written["rows"]) == 100
    again = runner.invoke(args=[*args[:-2], "--report", str(tmp_path / "again.csv")])
    assert again.exit_code == 0, again.output
    with (tmp_path / "again.csv").open(encoding="utf-8-sig") as file:
        rows = list(csv.DictReader(file))
    assert {row["outcome"] for row in rows} == {"duplicate"} and len(rows) == 100


def test_import_refuses_a_file_no_profile_fits(boundary_app, tmp_path) -> None:
    odd = tmp_path / "odd.csv"
    odd.write_text("a,b\n1,2\n", encoding="utf-8")
    result = boundary_app.test_cli_runner().invoke(args=["hotline", "import", str(odd)])
    assert result.exit_code != 0 and "no profile fits" in result.output


def test_address_tables_load_from_csv_and_from_the_demo(sqlite_app, tmp_path) -> None:
    runner = sqlite_app().test_cli_runner()
    demo = runner.invoke(args=["hotline", "demo-addresses"])
    assert demo.exit_code == 0 and f"{len(demo_addresses())} demo standard addresses stored" in demo.output
    table = tmp_path / "addresses.csv"
    table.write_text("address,lon,lat\n信阳市浉河区新华路1号,114.0535,32.1201\n", encoding="utf-8")
    loaded = runner.invoke(args=["hotline", "load-addresses", str(table), "--crs", "gcj02"])
    assert loaded.exit_code == 0 and "1 standard addresses stored" in loaded.output
    bad = tmp_path / "bad.csv"
    bad.write_text("name,x,y\n", encoding="utf-8")
    assert runner.invoke(args=["hotline", "load-addresses", str(bad)]).exit_code != 0


def test_send_replies_needs_a_webhook(sqlite_app) -> None:
    result = sqlite_app(hotline={"secret": SECRET}).test_cli_runner().invoke(args=["hotline", "send-replies"])
    assert result.exit_code != 0 and "webhook_url" in result.output


def test_the_default_report_goes_to_the_instance_folder(sqlite_app, tmp_path) -> None:
    orders = tmp_path / "orders.csv"
    orders.write_text("工单编号,诉求内容,诉求地址\nGD-9,新华路有人摆摊,新华路八号\n", encoding="utf-8")
    runner = sqlite_app().test_cli_runner()
    assert runner.invoke(args=["hotline", "demo-addresses"]).exit_code == 0
    result = runner.invoke(args=["hotline", "import", str(orders)])
    assert result.exit_code == 0, result.output
    with (tmp_path / "reports" / "orders.csv.report.csv").open(encoding="utf-8-sig") as file:
        [row] = list(csv.DictReader(file))
    assert (row["external_id"], row["outcome"]) == ("GD-9", "created")


def test_the_shipped_sample_workbook_imports_into_the_demo_city(sqlite_app, tmp_path) -> None:
    """config/examples/orders_12345.xlsx, the README's example: every row placed by its standard address."""
    from pathlib import Path

    sample = Path(__file__).resolve().parents[2] / "config" / "examples" / "orders_12345.xlsx"
    report = tmp_path / "sample.json"
    result = sqlite_app().test_cli_runner().invoke(
        args=["hotline", "import", str(sample), "--profile", "12345", "--report", str(report)])
    assert result.exit_code == 0, result.output
    outcomes = json.loads(report.read_text(encoding="utf-8"))["summary"]["outcomes"]
    assert outcomes == {"created": 7, "merged": 1}  # rows 1 and 6: the same stall, 2 door numbers apart
