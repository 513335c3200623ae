"""lifecycle: certificate verification codes, renewal reminders and reminder opt-outs

certificate_codes: the unguessable code of an award's certificate (/verify/<code>).
reminders: one renewal reminder e-mail per (learner, credential, cycle, offset), with its delivery.
reminder_opt_outs: learners who unsubscribed from reminders.
Only new tables: no existing row is read or changed.

Revision ID: 0008
Revises: 0006
Create Date: 2026-12-02 00:14:40.730627
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import lti_tool.models.base

revision: str = '0008'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('reminder_opt_outs',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('learner_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('created_at', lti_tool.models.base.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['learner_id'], ['learners.id'], name=op.f('fk_reminder_opt_outs_learner_id_learners')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reminder_opt_outs')),
    sa.UniqueConstraint('learner_id', name=op.f('uq_reminder_opt_outs_learner_id'))
    )
    op.create_table('reminders',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('idempotency_key', sa.String(length=64), nullable=False),
    sa.Column('learner_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('credential', sa.String(length=64), nullable=False),
    sa.Column('cycle_end', sa.Date(), nullable=False),
    sa.Column('offset_days', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('subject', sa.String(length=500), nullable=False),
    sa.Column('text_body', sa.Text(), nullable=False),
    sa.Column('html_body', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', lti_tool.models.base.UtcDateTime(timezone=True), nullable=False),
    sa.Column('last_error', sa.String(length=1000), nullable=True),
    sa.Column('receipt', sa.JSON(), nullable=True),
    sa.Column('sent_at', lti_tool.models.base.UtcDateTime(timezone=True), nullable=True),
    sa.Column('created_at', lti_tool.models.base.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['learner_id'], ['learners.id'], name=op.f('fk_reminders_learner_id_learners')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reminders')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_reminders_idempotency_key'))
    )
    with op.batch_alter_table('reminders', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reminders_learner_id'), ['learner_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_reminders_status'), ['status'], unique=False)

    op.create_table('certificate_codes',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('award_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('created_at', lti_tool.models.base.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['award_id'], ['awards.id'], name=op.f('fk_certificate_codes_award_id_awards')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_certificate_codes')),
    sa.UniqueConstraint('award_id', name=op.f('uq_certificate_codes_award_id')),
    sa.UniqueConstraint('code', name=op.f('uq_certificate_codes_code'))
    )


def downgrade() -> None:
    op.drop_table('certificate_codes')
    with op.batch_alter_table('reminders', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reminders_status'))
        batch_op.drop_index(batch_op.f('ix_reminders_learner_id'))

    op.drop_table('reminders')
    op.drop_table('reminder_opt_outs')
