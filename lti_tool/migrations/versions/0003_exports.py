"""exports: batch exporter and deadline, report consent

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 12:14:33.763800
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import lti_tool.models.base

revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('report_consents',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('learner_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('credential', sa.String(length=64), nullable=False),
    sa.Column('given_at', lti_tool.models.base.UtcDateTime(timezone=True), nullable=False),
    sa.Column('withdrawn_at', lti_tool.models.base.UtcDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['learner_id'], ['learners.id'], name=op.f('fk_report_consents_learner_id_learners')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_consents')),
    sa.UniqueConstraint('learner_id', 'credential', name=op.f('uq_report_consents_learner_id_credential'))
    )
    with op.batch_alter_table('report_consents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_report_consents_learner_id'), ['learner_id'], unique=False)

    with op.batch_alter_table('export_batches', schema=None) as batch_op:
        batch_op.add_column(sa.Column('exporter', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('deadline_at', lti_tool.models.base.UtcDateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f('ix_export_batches_deadline_at'), ['deadline_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('export_batches', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_export_batches_deadline_at'))
        batch_op.drop_column('deadline_at')
        batch_op.drop_column('exporter')

    with op.batch_alter_table('report_consents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_report_consents_learner_id'))

    op.drop_table('report_consents')
