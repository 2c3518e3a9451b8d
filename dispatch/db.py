"""Storage: the declarative base, UTC timestamps, engines, sessions and migrations."""
import datetime as dt
from collections.abc import Iterable
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import DateTime, Engine, MetaData, create_engine, event, text
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
WRITER = {"gridpatrol_writer": True}  # execution options of a session that will write: sessions(execution_options=WRITER)

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class UTCDateTime(TypeDecorator):
    """Aware datetimes in, aware UTC datetimes out, on SQLite (which keeps no zone) as on PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(dt.timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: dt.datetime | None, dialect) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.timezone.utc) if value.tzinfo is None else value.astimezone(dt.timezone.utc)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def make_engine(url: str, connect_timeout_s: int | None = None, *, pool_size: int = 5, max_overflow: int = 10) -> Engine:
    """An engine; SQLite gets foreign keys switched on and a folder for its file, PostgreSQL a connect timeout and
    a pool of `pool_size` (+ `max_overflow` opened and closed when busy) connections."""
    if url.startswith("sqlite:///") and not url.startswith("sqlite:///:memory:"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    postgres = url.startswith("postgresql")
    connect_args = {"connect_timeout": connect_timeout_s} if postgres and connect_timeout_s else {}
    pool = {"pool_size": pool_size, "max_overflow": max_overflow} if postgres else {}
    # pool_pre_ping: a connection the server dropped (restart, failover) is replaced, so the pool recovers by itself.
    engine = create_engine(url, pool_pre_ping=True, connect_args=connect_args, **pool)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin)
    return engine


def _sqlite_begin(connection) -> None:
    # A writer takes SQLite's one write lock at its start (waiting up to busy_timeout): a deferred transaction that
    # read first could neither write once another process had committed (SQLITE_BUSY, "database is locked") nor
    # decide on what it read. Readers stay deferred, so they never wait.
    writer = connection.get_execution_options().get("gridpatrol_writer", False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if writer else "BEGIN")


def _sqlite_connect(dbapi_connection, _record) -> None:
    # pysqlite's own transaction handling breaks SAVEPOINT; SQLAlchemy emits BEGIN itself instead.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def lock_keys(*, session: Session, keys: Iterable[int]) -> None:
    """Hold these lock keys until the transaction ends; another transaction asking for one of them waits.

    PostgreSQL: advisory transaction locks, taken in sorted order, so two one-report transactions cannot deadlock (a
    batch that commits every N rows holds its rows' keys until then; should it meet a deadlock, PostgreSQL fails one
    side: a 503 to retry, or that row refused with the reason). SQLite: a writer (WRITER) already holds the
    database's only write lock, so nothing else can decide meanwhile.
    """
    if session.get_bind().dialect.name != "postgresql":
        return
    for key in sorted(set(keys)):
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    # Objects stay readable after commit: events are published from them after the commit.
    return sessionmaker(bind=engine, expire_on_commit=False)


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest migration."""
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
