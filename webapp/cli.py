"""Commands: serve the platform, build a city grid, create accounts and tokens, hotline imports and replies."""
import json
import os
import time
from pathlib import Path
import threading

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext
from geopandas import GeoDataFrame
from tqdm import tqdm

from dispatch.account.enums import Role
from dispatch.account.service import create_user, issue_token
from dispatch.address.demo import demo_addresses
from dispatch.address.service import load_matcher, read_address_csv, store_addresses
from dispatch.db import WRITER, utcnow
from dispatch.errors import InputError
from dispatch.hotline.batch import (choose_profile, import_rows, missing_fields, read_rows, row_points, summary,
                                    write_report)
from dispatch.hotline.extent import add_extent_grid
from dispatch.hotline.outbox import HOTLINE_SOURCES as HOTLINE_SOURCE_NAMES
from dispatch.hotline.replies import send_due_replies
from dispatch.review import EXPORT_FILE, export_reviewed
from dispatch.squad.service import load_unit_grid, store_grid
from dispatch.ticket.enums import TicketSource
from grid.basemap import build_basemap
from grid.cells import load_cells_geojson
from grid.city import cut_city
from grid.crs import CoordSys
from grid.squads import assign_by_district
from webapp.demo import read_demo_credentials
from webapp.extensions import socketio
from webapp.platform import current_platform
from webapp.tasks import run_overdue_checks, run_position_retention, run_reply_sender, start_vision_worker


def register_cli(app: Flask) -> None:
    app.cli.add_command(serve)
    app.cli.add_command(grid_group)
    app.cli.add_command(users_group)
    app.cli.add_command(tokens_group)
    app.cli.add_command(hotline_group)
    app.cli.add_command(basemap_group)
    app.cli.add_command(review_group)
    app.cli.add_command(__import__("webapp.audit_cli", fromlist=["audit_group"]).audit_group)
    app.cli.add_command(__import__("webapp.deploy", fromlist=["deploy"]).deploy)  # import here: deploy imports the platform


@click.command("serve")
@with_appcontext
@click.option("--host", default=None, help="listen address (default: app.host in the settings)")
@click.option("--port", type=int, default=None, help="port (default: app.port in the settings)")
def serve(host: str | None, port: int | None) -> None:
    """Serve the platform (REST API and live push)."""
    platform = current_platform()
    host, port = host or platform.settings.app.host, port or platform.settings.app.port
    grid = platform.ctx.grid
    click.echo(f"GridPatrol · {platform.settings.city.name} · {len(grid) if grid else 0} cells")
    click.echo(f"Database: {platform.engine.url.render_as_string(hide_password=True)}")
    credentials = read_demo_credentials(platform.settings.path(platform.settings.app.instance_dir))
    if credentials is not None:
        click.echo("Demo accounts (username / password):")
        for username, account in credentials["users"].items():
            click.echo(f"  {username:<16} {account['password']:<14} {account['role']} {account['squad'] or ''}")
        for name, token in credentials["tokens"].items():
            click.echo(f"  token {name}: {token}")
    if platform.settings.app.secret_key is None:
        click.echo("GRIDPATROL_SECRET_KEY is not set: a random key is used, so every sign-in ends when this process "
                   "restarts (set it, the same in every web process, to keep sessions)")
    click.echo(f"Serving on http://{host}:{port}/  (API: /api/openapi.json; HOST and PORT change where)")
    socketio.start_background_task(run_overdue_checks, current_app._get_current_object())
    socketio.start_background_task(run_position_retention, platform)
    if platform.settings.hotline.replies.webhook_url is not None:
        socketio.start_background_task(run_reply_sender, platform)
    socketio.start_background_task(platform.detection_consumer().run, threading.Event())
    if start_vision_worker(platform) is not None:
        click.echo(f"Vision worker running the sources in {platform.settings.worker.sources_file}")
    elif platform.settings.worker.sources_file is not None:
        click.echo("Vision worker NOT running (no model, or a bad source: see the log above); "
                   "the platform runs without it")
    # FlaskGroup marks the process as "run from the CLI", which makes app.run() a no-op; this command *is* the server.
    os.environ.pop("FLASK_RUN_FROM_CLI", None)
    socketio.run(current_app, host=host, port=port, allow_unsafe_werkzeug=True)


REPLACE_HELP = ("replace a grid that stored cases lie on: every case is placed again by its coordinates, and moves "
                "to the new cell and squad")


@click.group("grid", cls=AppGroup)
def grid_group() -> None:
    """City grid commands."""


@grid_group.command("build")
@click.argument("boundary", type=click.Path(exists=True, dir_okay=False))
@click.option("--crs", "crs_name", required=True,
              help="CRS of the file's coordinates: wgs84, gcj02 or bd09 (DataV/Amap files are gcj02)")
@click.option("--cell-size", type=float, default=None, help="cell edge in metres (default: city.cell_size_m)")
@click.option("--district-field", default=None, help="property with the district code (default: city.district_field)")
@click.option("--name-field", default=None, help="property with the district name (default: city.name_field)")
@click.option("--replace", is_flag=True, help=REPLACE_HELP)
def build(boundary: str, crs_name: str, cell_size: float | None, district_field: str | None,
          name_field: str | None, replace: bool) -> None:
    """Cut BOUNDARY into unit grid cells, one squad per district, and store them."""
    city = current_platform().settings.city
    with tqdm(desc="cutting cells", unit="row") as bar:
        def progress(done: int, total: int) -> None:
            bar.total = total
            bar.update(done - bar.n)

        cells, squads = cut_city(boundary, crs=parse_crs(crs_name), cell_size_m=cell_size or city.cell_size_m,
                                 district_field=district_field or city.district_field,
                                 name_field=name_field or city.name_field,
                                 squads=[squad.model_dump() for squad in city.squads], progress=progress)
    store_city_grid(cells, squads, replace=replace)


@grid_group.command("import")
@click.argument("cells_file", type=click.Path(exists=True, dir_okay=False))
@click.option("--crs", "crs_name", required=True, help="CRS of the file's coordinates: wgs84, gcj02 or bd09")
@click.option("--code-field", default="code", show_default=True, help="property with the cell code")
@click.option("--district-field", default="district_code", show_default=True, help="property with the district code")
@click.option("--squad-field", default="squad_code", show_default=True,
              help="property with the squad code; cells without one are assigned by district")
@click.option("--replace", is_flag=True, help=REPLACE_HELP)
def import_cells(cells_file: str, crs_name: str, code_field: str, district_field: str, squad_field: str,
                 replace: bool) -> None:
    """Store an existing unit grid from a GeoJSON file instead of cutting one."""
    cells = load_cells_geojson(cells_file, crs=parse_crs(crs_name), code_field=code_field,
                               district_field=district_field, squad_field=squad_field)
    if cells["squad_code"].notna().all():
        squads = [{"code": code, "name": code, "district_code": None} for code in sorted(set(cells["squad_code"]))]
    else:
        cells, squads = assign_by_district(cells, [squad.model_dump() for squad in current_platform().settings.city.squads])
    store_city_grid(cells, squads, replace=replace)


def parse_crs(name: str) -> CoordSys:
    try:
        return CoordSys.parse(name)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--crs") from exc


def store_city_grid(cells: GeoDataFrame, squads: list[dict], *, replace: bool) -> None:
    """Store the cells and squads, print what changed for the stored cases."""
    platform = current_platform()
    with platform.sessions() as session:
        try:
            replaced = store_grid(session=session, cells=cells, squads=squads,
                                  replace_for_cases="cli:grid" if replace else None)
        except ValueError as exc:
            hint = "" if replace else "; add --replace to do so, or use a new database (DATABASE_URL)"
            raise click.ClickException(f"grid not stored: {exc}{hint}") from None
        session.commit()
    click.echo(f"{len(cells)} cells, {len(squads)} squads stored")
    if replaced is not None:
        click.echo(f"{replaced.cases} stored cases placed in the new grid by their coordinates: {replaced.moved} moved "
                   f"to another cell or squad (timeline entry 'regridded'), {len(replaced.moved_squad)} of them open "
                   "and now with another squad" + (f" (case ids {replaced.moved_squad[:20]})" if replaced.moved_squad else ""))
        if replaced.squads_without_cells:
            click.echo(f"squads left without cells (their accounts see no new cases): "
                       f"{', '.join(replaced.squads_without_cells)}")
    click.echo("Restart running web processes and vision workers: they read the grid when they start.")


@click.group("users", cls=AppGroup)
def users_group() -> None:
    """Accounts."""


@users_group.command("create")
@click.argument("username")
@click.option("--role", type=click.Choice([r.value for r in Role]), default=Role.ADMIN.value, show_default=True)
@click.option("--squad", default=None, help="the squad of a squad_leader or officer")
@click.option("--name", "display_name", default=None, help="display name")
@click.password_option(help="the password (asked for when not given)")
def create_user_command(username: str, role: str, squad: str | None, display_name: str | None, password: str) -> None:
    """Create an account, e.g. the first admin: `users create admin`."""
    with current_platform().sessions() as session:
        try:
            create_user(session=session, username=username, password=password, role=Role(role), squad_code=squad,
                        display_name=display_name)
        except InputError as exc:
            raise click.BadParameter(exc.message, param_hint=exc.field) from exc
        session.commit()
    click.echo(f"created {role} '{username}'")


@click.group("tokens", cls=AppGroup)
def tokens_group() -> None:
    """Bearer tokens for machine clients (hotline gateways, vision workers)."""


@tokens_group.command("create")
@click.argument("name")
@click.option("--source", "sources", multiple=True, required=True,
              type=click.Choice([s.value for s in TicketSource]), help="a source the token may submit as")
def create_token_command(name: str, sources: tuple[str, ...]) -> None:
    """Issue a token; it is printed once and only its hash is kept."""
    with current_platform().sessions() as session:
        token = issue_token(session=session, name=name, sources=[TicketSource(s) for s in sources])
        session.commit()
    click.echo(token)


@click.group("review", cls=AppGroup)
def review_group() -> None:
    """Dispatchers' reviews of camera and drone cases."""


@review_group.command("export")
@click.argument("out_dir", type=click.Path(file_okay=False, path_type=Path))
def export_reviews_command(out_dir: Path) -> None:
    """Write the reviewed detections (clean frames, boxes, verdicts) to OUT_DIR for `vision models harvest`."""
    platform = current_platform()
    with platform.sessions() as session:
        summary = export_reviewed(session=session, store=platform.evidence, out_dir=out_dir)
    click.echo(f"{summary.frames} frames ({summary.confirmed} confirmed, {summary.rejected} rejected) → "
               f"{out_dir / EXPORT_FILE}; {summary.skipped} reviewed detections had no unannotated frame")


@click.group("hotline", cls=AppGroup)
def hotline_group() -> None:
    """12345/12319 work orders, closure replies and the standard-address table."""


@hotline_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--profile", default=None, help="layout in config/hotline.yaml (default: the first fitting the columns)")
@click.option("--source", type=click.Choice(HOTLINE_SOURCE_NAMES), default=None, help="file them as this source")
@click.option("--report", "report_path", type=click.Path(dir_okay=False), default=None,
              help="per-row report, .csv or .json (default: <instance_dir>/reports/<FILE>.report.csv)")
@click.option("--extent-grid", "extent_cell_m", type=float, default=None,
              help="first cut a grid of cells this many metres wide around the records the city grid misses")
def import_command(file: str, profile: str | None, source: str | None, report_path: str | None,
                   extent_cell_m: float | None) -> None:
    """Import FILE (.csv, .xlsx, .json) of work orders; idempotent by work-order number."""
    platform = current_platform()
    config = platform.settings.hotline
    path = Path(file)
    candidates = [config.profiles[profile]] if profile in config.profiles else list(config.profiles.values())
    try:
        table = read_rows(path.read_bytes(), path.name, profiles=candidates)
        name, chosen = choose_profile(config.profiles, table.columns, name=profile, source=source)
    except InputError as exc:
        raise click.BadParameter(exc.message, param_hint=exc.field) from exc
    rows = table.rows
    lacking = missing_fields(chosen, table.columns)
    if lacking:
        click.echo(f"not in the file (left empty): {', '.join(lacking)}")
    with platform.sessions(execution_options=WRITER) as session:
        if extent_cell_m is not None:
            lons, lats = row_points(rows, chosen)
            added = add_extent_grid(session=session, grid=platform.ctx.grid, lons=lons, lats=lats,
                                    cell_size_m=extent_cell_m, name=f"{path.stem} extent")
            session.commit()
            platform.ctx.grid = load_unit_grid(session=session)
            click.echo(f"{added} cells added around the records")
        with tqdm(total=len(rows), desc=f"importing ({name})", unit="row") as bar:
            reports = import_rows(session=session, bus=platform.bus, ctx=platform.ctx, config=config, profile=chosen,
                                  rows=rows, matcher=load_matcher(session=session, config=config.address),
                                  actor=f"import:{path.name}", on_row=lambda _report: bar.update())
    instance = platform.settings.path(platform.settings.app.instance_dir)
    report_file = Path(report_path) if report_path else instance / "reports" / f"{path.name}.report.csv"
    report_file.parent.mkdir(parents=True, exist_ok=True)
    write_report(reports, report_file)
    click.echo(json.dumps(summary(reports), ensure_ascii=False, indent=1))
    click.echo(f"report: {report_file}")


@hotline_group.command("send-replies")
@click.option("--loop", is_flag=True, help="keep sending every replies.every_s seconds")
def send_replies_command(loop: bool) -> None:
    """Send the due closure replies to the hotline's webhook (retries back off exponentially)."""
    platform = current_platform()
    config = platform.settings.hotline
    if config.replies.webhook_url is None:
        raise click.UsageError("hotline.replies.webhook_url is not set")
    while True:
        with platform.sessions() as session:
            click.echo(json.dumps(send_due_replies(session=session, config=config, now=utcnow())))
        if not loop:
            return
        time.sleep(config.replies.every_s)


@hotline_group.command("load-addresses")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--crs", "crs_name", default="wgs84", show_default=True, help="CRS of the lon/lat columns")
def load_addresses_command(file: str, crs_name: str) -> None:
    """Replace the standard-address table (地址库) with FILE, a CSV with columns address, lon, lat."""
    platform = current_platform()
    try:
        rows = read_address_csv(Path(file))
        with platform.sessions() as session:
            count = store_addresses(session=session, rows=rows, crs=CoordSys.parse(crs_name),
                                    config=platform.settings.hotline.address)
            session.commit()
    except (InputError, ValueError) as exc:
        raise click.BadParameter(str(exc)) from exc
    click.echo(f"{count} standard addresses stored")


@hotline_group.command("demo-addresses")
def demo_addresses_command() -> None:
    """Fill the standard-address table with the demo city's generated streets and door numbers."""
    platform = current_platform()
    with platform.sessions() as session:
        count = store_addresses(session=session, rows=demo_addresses(), crs=CoordSys.WGS84,
                                config=platform.settings.hotline.address)
        session.commit()
    click.echo(f"{count} demo standard addresses stored")


@click.group("basemap", cls=AppGroup)
def basemap_group() -> None:
    """Offline base map commands."""


@basemap_group.command("build")
@click.argument("extract", type=click.Path(exists=True, dir_okay=False))
@click.option("--output", default=None, help="PMTiles file to write (default: map.basemap.file in the settings)")
def build_basemap_command(extract: str, output: str | None) -> None:
    """Build the base map's vector tiles from an OpenStreetMap EXTRACT (.osm, .osm.pbf) into one PMTiles file."""
    settings = current_platform().settings
    config = settings.map.basemap
    target = Path(output) if output else settings.path(config.file)
    click.echo(f"Building {target} from {extract} (zoom {config.min_zoom}-{config.max_zoom}) ...")
    started = time.perf_counter()
    try:
        summary = build_basemap(extract=Path(extract), output=target, label_keys=config.label_keys,
                                min_zoom=config.min_zoom, max_zoom=config.max_zoom, name=Path(extract).stem)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="EXTRACT") from None
    west, south, east, north = summary.bounds
    click.echo(f"{summary.path}: {summary.size_bytes / 1e6:.2f} MB, {summary.tiles} tiles, zoom "
               f"{summary.min_zoom}-{summary.max_zoom}, bounds {west:.4f},{south:.4f} to {east:.4f},{north:.4f} "
               f"({time.perf_counter() - started:.1f} s)")
    if settings.map.tile_url is not None:
        click.echo("Note: map.tile_url is set, so the pages draw that tile server, not this file")
