"""The long-lived parts of one GridPatrol process: storage, the dispatch context, the bus."""
import logging
from dataclasses import dataclass

from flask import Flask, current_app, g, has_request_context, request
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker
from tqdm import tqdm

from config import Settings
from dispatch.bus import Bus, make_bus
from dispatch.calendar import WorkCalendar
from dispatch.case.signoff import SignoffRules
from dispatch.casefile.review import ReviewRules
from dispatch.categories import CategoryTable
from dispatch.context import DispatchContext
from dispatch.db import WRITER, make_engine, make_session_factory, migrate
from dispatch.consumer import DetectionConsumer
from dispatch.evidence_store import EvidenceStore
from dispatch.streams import DetectionQueue, HealthBoard, make_detection_queue, make_health_board
from dispatch.squad.service import load_unit_grid, store_grid
from grid.city import cut_city
from grid.crs import CoordSys
from webapp.demo import seed_demo

EXTENSION_KEY = "gridpatrol"
log = logging.getLogger(__name__)
READING_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass
class Platform:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    ctx: DispatchContext
    bus: Bus
    evidence: EvidenceStore
    detections: DetectionQueue
    source_health: HealthBoard

    def detection_consumer(self) -> DetectionConsumer:
        return DetectionConsumer(sessions=self.sessions, ctx=self.ctx, bus=self.bus, store=self.evidence,
                                 queue=self.detections, max_deliveries=self.settings.redis.max_deliveries)


def build_platform(settings: Settings) -> Platform:
    """Migrate the database, make sure a city grid exists, and wire the dispatch context."""
    database = settings.database
    engine = make_engine(database.url, database.connect_timeout_s, pool_size=database.pool_size,
                         max_overflow=database.max_overflow)
    migrate(engine)
    sessions = make_session_factory(engine)
    with sessions() as session:
        grid = load_unit_grid(session=session)
    if grid is None and settings.city.source == "demo":
        seed_demo(sessions, settings.path(settings.app.instance_dir), with_accounts=settings.city.demo_accounts,
                  address_config=settings.hotline.address)
    if grid is None and settings.city.source == "boundary" and settings.city.boundary is not None:
        cut_configured_city(sessions, settings)
    if grid is None:
        with sessions() as session:
            grid = load_unit_grid(session=session)
    ctx = DispatchContext(
        config=settings.dispatch,
        categories=CategoryTable.from_yaml(settings.path(settings.dispatch.categories_file)),
        calendar=WorkCalendar(settings.calendar),
        grid=grid,
        signoffs=SignoffRules.from_yaml(settings.path(settings.dispatch.signoff_file)),
        review=ReviewRules.from_yaml(settings.path(settings.dispatch.review_file)),
        plates=settings.plates,
    )
    evidence = EvidenceStore(settings.path(settings.app.instance_dir) / "evidence")
    bus = make_bus(settings.redis.url, settings.redis.events_channel)
    return Platform(settings=settings, engine=engine, sessions=sessions, ctx=ctx, bus=bus,
                    evidence=evidence, detections=make_detection_queue(settings.redis.url, settings.redis.detections_stream),
                    source_health=make_health_board(settings.redis.url))


def cut_configured_city(sessions: sessionmaker[Session], settings: Settings) -> None:
    """First start of a city.source: boundary platform: cut city.boundary into cells and store them."""
    city = settings.city
    path = settings.path(city.boundary)
    # A big city takes a minute: show it on the console (stderr), whatever the logging set-up.
    with tqdm(desc=f"first start: cutting {path.name} into {city.cell_size_m:g} m cells", unit="row") as bar:
        def progress(done: int, total: int) -> None:
            bar.total = total
            bar.update(done - bar.n)

        cells, squads = cut_city(path, crs=CoordSys.parse(city.boundary_crs), cell_size_m=city.cell_size_m,
                                 district_field=city.district_field, name_field=city.name_field,
                                 squads=[squad.model_dump() for squad in city.squads], progress=progress)
    with sessions() as session:
        store_grid(session=session, cells=cells, squads=squads)
        session.commit()
    log.info("%d cells, %d squads stored", len(cells), len(squads))


def init_app(app: Flask, platform: Platform) -> None:
    app.extensions[EXTENSION_KEY] = platform
    app.teardown_appcontext(close_session)


def current_platform() -> Platform:
    return current_app.extensions[EXTENSION_KEY]


def db_session() -> Session:
    """The request's database session, opened on first use and closed on teardown; a writer for unsafe methods."""
    if "db_session" not in g:
        writes = has_request_context() and request.method not in READING_METHODS
        g.db_session = current_platform().sessions(**({"execution_options": WRITER} if writes else {}))
    return g.db_session


def close_session(_exc: BaseException | None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.close()
