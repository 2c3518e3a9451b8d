"""evidence: who uploaded it and when, and the photo's own EXIF time and position

Revision ID: 0008
Revises: 0005
Create Date: 2026-12-02 14:30:00

"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

import dispatch.db

revision: str = '0008'
down_revision: Union[str, Sequence[str], None] = '0005'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('evidence', schema=None) as batch_op:
        batch_op.add_column(sa.Column('uploaded_at', dispatch.db.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('uploaded_by', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('exif', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('evidence', schema=None) as batch_op:
        batch_op.drop_column('exif')
        batch_op.drop_column('uploaded_by')
        batch_op.drop_column('uploaded_at')
