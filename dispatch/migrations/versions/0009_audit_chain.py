"""tamper evidence: each timeline row's hash chained to the case's previous row; daily anchors

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 15:00:00

Rows already in case_events get their hashes here, case by case in id order. The append-only
triggers are lifted for that one backfill and put back before the migration commits.

"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

import dispatch.db
from dispatch.audit.chain import GENESIS, entry_hash

revision: str = '0009'
down_revision: Union[str, Sequence[str], None] = '0008'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

EVENTS = sa.table(
    "case_events", sa.column("id", sa.Integer), sa.column("case_id", sa.Integer), sa.column("kind", sa.String),
    sa.column("actor", sa.String), sa.column("at", dispatch.db.UTCDateTime()), sa.column("from_status", sa.String),
    sa.column("to_status", sa.String), sa.column("note", sa.Text), sa.column("data", sa.JSON),
    sa.column("prev_hash", sa.String), sa.column("hash", sa.String),
)


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('case_events', schema=None, recreate='never') as batch_op:
        batch_op.add_column(sa.Column('prev_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('hash', sa.String(length=64), nullable=True))
    drop_append_only_triggers("case_events")
    backfill_hashes()
    if op.get_bind().dialect.name == "postgresql":  # SQLite cannot add NOT NULL in place; the platform always writes both
        op.alter_column('case_events', 'prev_hash', nullable=False)
        op.alter_column('case_events', 'hash', nullable=False)
    create_append_only_triggers("case_events")
    op.create_table('audit_anchors',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('heads_hash', sa.String(length=64), nullable=False),
    sa.Column('case_count', sa.Integer(), nullable=False),
    sa.Column('event_count', sa.Integer(), nullable=False),
    sa.Column('created_at', dispatch.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('day', name=op.f('pk_audit_anchors'))
    )
    create_append_only_triggers("audit_anchors")


def backfill_hashes() -> None:
    bind = op.get_bind()
    heads: dict[int, str] = {}
    for row in bind.execute(sa.select(EVENTS).order_by(EVENTS.c.id)).mappings().all():
        prev = heads.get(row["case_id"], GENESIS)
        heads[row["case_id"]] = digest = entry_hash(dict(row), prev)
        bind.execute(EVENTS.update().where(EVENTS.c.id == row["id"]).values(prev_hash=prev, hash=digest))


def create_append_only_triggers(table: str) -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"CREATE OR REPLACE FUNCTION {table}_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN RAISE EXCEPTION '{table} is append-only (%)', TG_OP; END $$"
        )
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION {table}_append_only()"
        )
    else:
        for operation in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{operation.lower()} BEFORE {operation} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{table} is append-only ({operation})'); END"
            )


def drop_append_only_triggers(table: str) -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP TRIGGER {table}_append_only ON {table}")
    else:
        for operation in ("update", "delete"):
            op.execute(f"DROP TRIGGER {table}_no_{operation}")


def downgrade() -> None:
    """Downgrade schema."""
    drop_append_only_triggers("audit_anchors")
    op.drop_table('audit_anchors')
    drop_append_only_triggers("case_events")
    with op.batch_alter_table('case_events', schema=None, recreate='never') as batch_op:
        batch_op.drop_column('hash')
        batch_op.drop_column('prev_hash')
    create_append_only_triggers("case_events")
