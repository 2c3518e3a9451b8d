"""patrol and duty: roster shifts (beats and hours), patrols, positions, check-ins; cases dispatched to an officer

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 18:00:00

"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

import dispatch.db

revision: str = '0012'
down_revision: Union[str, Sequence[str], None] = '0011'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('roster_shifts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('squad_code', sa.String(length=32), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('label', sa.String(length=40), nullable=False),
    sa.Column('days', sa.String(length=40), nullable=False),
    sa.Column('start', sa.Time(), nullable=False),
    sa.Column('end', sa.Time(), nullable=False),
    sa.Column('cells', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['squad_code'], ['squads.code'], name=op.f('fk_roster_shifts_squad_code_squads')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_roster_shifts_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_roster_shifts'))
    )
    op.create_index(op.f('ix_roster_shifts_squad_code'), 'roster_shifts', ['squad_code'], unique=False)
    op.create_index(op.f('ix_roster_shifts_user_id'), 'roster_shifts', ['user_id'], unique=False)
    op.create_table('patrols',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('squad_code', sa.String(length=32), nullable=False),
    sa.Column('started_at', dispatch.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ended_at', dispatch.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['squad_code'], ['squads.code'], name=op.f('fk_patrols_squad_code_squads')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_patrols_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_patrols'))
    )
    op.create_index(op.f('ix_patrols_user_id'), 'patrols', ['user_id'], unique=False)
    op.create_index(op.f('ix_patrols_squad_code'), 'patrols', ['squad_code'], unique=False)
    op.create_index(op.f('ix_patrols_started_at'), 'patrols', ['started_at'], unique=False)
    # Compact on purpose (2,000 phones every 15 s): integer microdegrees, no surrogate key, no foreign keys to check.
    op.create_table('patrol_positions',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('t_ms', sa.BigInteger(), nullable=False),
    sa.Column('patrol_id', sa.Integer(), nullable=False),
    sa.Column('lon_u', sa.Integer(), nullable=False),
    sa.Column('lat_u', sa.Integer(), nullable=False),
    sa.Column('accuracy_m', sa.SmallInteger(), nullable=True),
    sa.PrimaryKeyConstraint('user_id', 't_ms', name=op.f('pk_patrol_positions'))
    )
    op.create_table('patrol_check_ins',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('patrol_id', sa.Integer(), nullable=False),
    sa.Column('at', dispatch.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('lon', sa.Float(), nullable=False),
    sa.Column('lat', sa.Float(), nullable=False),
    sa.Column('cell_code', sa.String(length=32), nullable=True),
    sa.Column('in_beat', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['patrol_id'], ['patrols.id'], name=op.f('fk_patrol_check_ins_patrol_id_patrols')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_patrol_check_ins_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_patrol_check_ins'))
    )
    op.create_index(op.f('ix_patrol_check_ins_user_id'), 'patrol_check_ins', ['user_id'], unique=False)
    op.create_index(op.f('ix_patrol_check_ins_patrol_id'), 'patrol_check_ins', ['patrol_id'], unique=False)
    op.create_index(op.f('ix_patrol_check_ins_at'), 'patrol_check_ins', ['at'], unique=False)
    with op.batch_alter_table('cases', schema=None, recreate='never') as batch_op:
        batch_op.add_column(sa.Column('assigned_to', sa.String(length=64), nullable=True))
    op.create_index(op.f('ix_cases_assigned_to'), 'cases', ['assigned_to'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_cases_assigned_to'), table_name='cases')
    with op.batch_alter_table('cases', schema=None, recreate='never') as batch_op:
        batch_op.drop_column('assigned_to')
    op.drop_table('patrol_check_ins')
    op.drop_table('patrol_positions')
    op.drop_table('patrols')
    op.drop_table('roster_shifts')
