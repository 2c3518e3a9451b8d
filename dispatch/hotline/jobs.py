"""Work-order files imported in the background: a job row holds the progress, then the per-row report.

The job lives in the database, so any web process answers its status; the process that took the
upload runs it. Progress is committed with the rows themselves (every batch.COMMIT_EVERY rows).
"""
import csv
import io
import logging
from dataclasses import asdict
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from config.hotline import HotlineConfig, ProfileConfig
from dispatch.address.service import load_matcher
from dispatch.bus import Bus
from dispatch.context import DispatchContext
from dispatch.db import WRITER, utcnow
from dispatch.errors import NotFound
from dispatch.hotline.batch import RowReport, import_rows, summary
from dispatch.hotline.models import ImportJob

log = logging.getLogger(__name__)


class JobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


def create_job(*, session: Session, profile: str, filename: str, actor: str, total: int,
               missing_fields: list[str]) -> ImportJob:
    job = ImportJob(profile=profile, filename=filename[:200], actor=actor, status=JobStatus.QUEUED.value, total=total,
                    done=0, missing_fields=missing_fields, created_at=utcnow())
    session.add(job)
    session.flush()
    return job


def get_job(*, session: Session, job_id: int) -> ImportJob:
    job = session.get(ImportJob, job_id)
    if job is None:
        raise NotFound(f"no import job {job_id}")
    return job


def recent_jobs(*, session: Session, limit: int) -> list[ImportJob]:
    return list(session.scalars(select(ImportJob).order_by(ImportJob.id.desc()).limit(limit)))


def run_job(
    *, sessions: sessionmaker[Session], bus: Bus, ctx: DispatchContext, config: HotlineConfig, profile: ProfileConfig,
    job_id: int, rows: list[dict[str, Any]],
) -> None:
    """Import the job's rows, its progress counted as they commit; a crash marks the job failed with the reason."""
    with sessions(execution_options=WRITER) as session:
        job = get_job(session=session, job_id=job_id)
        job.status, job.started_at = JobStatus.RUNNING.value, utcnow()
        session.commit()
        done = 0

        def count(_report: RowReport) -> None:
            nonlocal done
            done += 1
            job.done = done  # committed with the rows it counts

        try:
            reports = import_rows(session=session, bus=bus, ctx=ctx, config=config, profile=profile, rows=rows,
                                  matcher=load_matcher(session=session, config=config.address), actor=job.actor,
                                  on_row=count)
        except Exception as exc:  # noqa: BLE001 - whatever stopped it, the job says so instead of running forever
            log.exception("import job %s failed", job_id)
            session.rollback()
            job = get_job(session=session, job_id=job_id)
            job.status, job.error = JobStatus.FAILED.value, f"{exc.__class__.__name__}: {exc}"[:2000]
        else:
            job.status, job.summary = JobStatus.DONE.value, summary(reports)
            job.report = [asdict(report) for report in reports]
        job.finished_at = utcnow()
        session.commit()


def report_csv(job: ImportJob) -> str:
    """The job's per-row report as CSV (UTF-8 with BOM, so Excel reads the Chinese)."""
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=list(RowReport.__dataclass_fields__), lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(job.report or [])
    return "\ufeff" + text.getvalue()


def job_view(job: ImportJob) -> dict[str, Any]:
    """The job without its report rows (those are downloaded)."""
    columns = [c for c in ImportJob.__table__.columns.keys() if c != "report"]
    return {column: getattr(job, column) for column in columns}
