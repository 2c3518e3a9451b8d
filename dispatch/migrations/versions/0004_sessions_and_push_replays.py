"""revocable sign-ins (a session version per user) and the replay memory of signed hotline pushes

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 14:15:00

"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

import dispatch.db


# revision identifiers, used by Alembic.
revision: str = '0004'
down_revision: Union[str, Sequence[str], None] = '0003'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_version', sa.Integer(), server_default='0', nullable=False))

    op.create_table('hotline_push_signatures',
    sa.Column('signature', sa.String(length=64), nullable=False),
    sa.Column('seen_at', dispatch.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('signature', name=op.f('pk_hotline_push_signatures'))
    )
    with op.batch_alter_table('hotline_push_signatures', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_hotline_push_signatures_seen_at'), ['seen_at'], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('hotline_push_signatures', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_hotline_push_signatures_seen_at'))
    op.drop_table('hotline_push_signatures')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('session_version')
