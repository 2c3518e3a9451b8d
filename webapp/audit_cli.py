"""`audit verify` and `audit anchor`: the tamper evidence of the case timelines, from the command line."""
import sys
from zoneinfo import ZoneInfo

import click
from flask.cli import AppGroup

from dispatch.audit.service import anchor_finished_days, audit
from dispatch.db import utcnow
from webapp.platform import current_platform


@click.group("audit", cls=AppGroup)
def audit_group() -> None:
    """Tamper evidence: the hash chain of every case's timeline and the daily anchors."""


@audit_group.command("verify")
def verify_command() -> None:
    """Check every case's chain and every daily anchor; exit 1 naming the first row that does not match."""
    platform = current_platform()
    with platform.sessions() as session:
        report = audit(session=session, zone=ZoneInfo(platform.settings.calendar.timezone))
    for broken in report.breaks:
        click.echo(f"BROKEN case {broken.case_id}: timeline entry {broken.event_id}: {broken.reason}", err=True)
    for day in report.bad_anchors:
        click.echo(f"BROKEN anchor {day.isoformat()}: the chain heads no longer hash to the anchored value", err=True)
    click.echo(f"{report.cases} cases, {report.events} timeline entries, {report.anchors} daily anchors checked: "
               + ("all match" if report.ok else f"{len(report.breaks)} chains and {len(report.bad_anchors)} anchors broken"))
    if not report.ok:
        sys.exit(1)


@audit_group.command("anchor")
def anchor_command() -> None:
    """Write the anchor of every finished local day that has none yet (run daily, e.g. from cron)."""
    platform = current_platform()
    with platform.sessions() as session:
        made = anchor_finished_days(session=session, zone=ZoneInfo(platform.settings.calendar.timezone), now=utcnow())
        session.commit()
        for anchor in made:
            click.echo(f"{anchor.day.isoformat()} {anchor.heads_hash} ({anchor.case_count} cases, "
                       f"{anchor.event_count} entries)")
    click.echo(f"{len(made)} days anchored")
