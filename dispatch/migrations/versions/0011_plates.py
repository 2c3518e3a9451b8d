"""cases: the vehicle's plate, its colour, confidence, source and note; the first-offence suggestion

Revision ID: 0011
Revises: 0009
Create Date: 2026-12-02 18:15:00

"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = '0011'
down_revision: Union[str, Sequence[str], None] = '0009'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

COLUMNS = ("plate", "plate_colour", "plate_confidence", "plate_source", "plate_note", "leniency")


def upgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('plate', sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column('plate_colour', sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column('plate_confidence', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('plate_source', sa.String(length=12), nullable=True))
        batch_op.add_column(sa.Column('plate_note', sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column('leniency', sa.String(length=20), nullable=True))
        batch_op.create_index('ix_cases_plate', ['plate'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index('ix_cases_plate')
        for column in reversed(COLUMNS):
            batch_op.drop_column(column)
