"""hotline work orders: closure-reply outbox, satisfaction ratings, standard addresses and candidates

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 08:20:46.665231

"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

import dispatch.db


# revision identifiers, used by Alembic.
revision: str = '0002'
down_revision: Union[str, Sequence[str], None] = '0001'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table('standard_addresses',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('address', sa.String(length=300), nullable=False),
    sa.Column('key', sa.String(length=300), nullable=False),
    sa.Column('lon', sa.Float(), nullable=False),
    sa.Column('lat', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_standard_addresses')),
    sa.UniqueConstraint('address', name=op.f('uq_standard_addresses_address'))
    )
    with op.batch_alter_table('standard_addresses', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_standard_addresses_key'), ['key'], unique=False)

    op.create_table('case_ratings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('rating', sa.String(length=24), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('at', dispatch.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_ratings_case_id_cases')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_ratings'))
    )
    with op.batch_alter_table('case_ratings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_ratings_case_id'), ['case_id'], unique=False)

    op.create_table('address_candidates',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('rank', sa.Integer(), nullable=False),
    sa.Column('address', sa.String(length=300), nullable=False),
    sa.Column('lon', sa.Float(), nullable=False),
    sa.Column('lat', sa.Float(), nullable=False),
    sa.Column('score', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_address_candidates_ticket_id_tickets')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_address_candidates'))
    )
    with op.batch_alter_table('address_candidates', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_address_candidates_ticket_id'), ['ticket_id'], unique=False)

    op.create_table('hotline_replies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('idempotency_key', sa.String(length=160), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', dispatch.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('created_at', dispatch.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('sent_at', dispatch.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_hotline_replies_case_id_cases')),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_hotline_replies_ticket_id_tickets')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_hotline_replies')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_hotline_replies_idempotency_key'))
    )
    with op.batch_alter_table('hotline_replies', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_hotline_replies_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_hotline_replies_next_attempt_at'), ['next_attempt_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_hotline_replies_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_hotline_replies_ticket_id'), ['ticket_id'], unique=False)



def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('hotline_replies', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_hotline_replies_ticket_id'))
        batch_op.drop_index(batch_op.f('ix_hotline_replies_status'))
        batch_op.drop_index(batch_op.f('ix_hotline_replies_next_attempt_at'))
        batch_op.drop_index(batch_op.f('ix_hotline_replies_case_id'))

    op.drop_table('hotline_replies')
    with op.batch_alter_table('address_candidates', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_address_candidates_ticket_id'))

    op.drop_table('address_candidates')
    with op.batch_alter_table('case_ratings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_ratings_case_id'))

    op.drop_table('case_ratings')
    with op.batch_alter_table('standard_addresses', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_standard_addresses_key'))

    op.drop_table('standard_addresses')
