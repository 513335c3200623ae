"""exports delivery: delivery attempts, attempt count at the last hand retry

export_attempts: one row per delivery attempt (the administrators' last runs and their errors).
export_batches.attempts_before_retry: where a hand retry restarted the max_attempts count.

Revision ID: 0005
Revises: 0003
Create Date: 2026-11-23 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import lti_tool.models.base

revision: str = '0005'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('export_attempts',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('batch_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('attempt', sa.Integer(), nullable=False),
    sa.Column('destination', sa.String(length=64), nullable=False),
    sa.Column('started_at', lti_tool.models.base.UtcDateTime(timezone=True), nullable=False),
    sa.Column('finished_at', lti_tool.models.base.UtcDateTime(timezone=True), nullable=True),
    sa.Column('outcome', sa.String(length=16), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('receipt', sa.JSON(), nullable=True),
    sa.Column('retry_at', lti_tool.models.base.UtcDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['batch_id'], ['export_batches.id'], name=op.f('fk_export_attempts_batch_id_export_batches')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_export_attempts')),
    sa.UniqueConstraint('batch_id', 'attempt', name=op.f('uq_export_attempts_batch_id_attempt'))
    )
    with op.batch_alter_table('export_attempts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_export_attempts_batch_id'), ['batch_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_export_attempts_started_at'), ['started_at'], unique=False)

    with op.batch_alter_table('export_batches', schema=None) as batch_op:
        batch_op.add_column(sa.Column('attempts_before_retry', sa.Integer(), server_default='0', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('export_batches', schema=None) as batch_op:
        batch_op.drop_column('attempts_before_retry')

    with op.batch_alter_table('export_attempts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_export_attempts_started_at'))
        batch_op.drop_index(batch_op.f('ix_export_attempts_batch_id'))

    op.drop_table('export_attempts')
