"""reconciliation: source connections, per-course marks, runs and leases

source_connections: an LMS's API address and where its credentials live (never the secrets).
reconcile_marks: per source and course, how far completions have been read.
reconcile_runs: each reconciliation's counts and errors.
reconcile_leases: one scheduler at a time reconciles a source.
reconcile_requests: "Reconcile now" asked on the administrator's page, for the scheduler.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 00:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import lti_tool.models.base

revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Id = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
When = lti_tool.models.base.UtcDateTime(timezone=True)


def upgrade() -> None:
    op.create_table('source_connections',
    sa.Column('id', Id, nullable=False),
    sa.Column('source_id', Id, nullable=False),
    sa.Column('api_url', sa.String(length=2000), nullable=False),
    sa.Column('auth', sa.JSON(), nullable=False),
    sa.Column('updated_at', When, nullable=False),
    sa.ForeignKeyConstraint(['source_id'], ['sources.id'], name=op.f('fk_source_connections_source_id_sources')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_source_connections')),
    sa.UniqueConstraint('source_id', name=op.f('uq_source_connections_source_id'))
    )
    op.create_table('reconcile_marks',
    sa.Column('id', Id, nullable=False),
    sa.Column('source_id', Id, nullable=False),
    sa.Column('course_id', sa.String(length=2000), nullable=False),
    sa.Column('completed_through', When, nullable=True),
    sa.Column('checked_at', When, nullable=False),
    sa.ForeignKeyConstraint(['source_id'], ['sources.id'], name=op.f('fk_reconcile_marks_source_id_sources')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reconcile_marks')),
    sa.UniqueConstraint('source_id', 'course_id', name=op.f('uq_reconcile_marks_source_id_course_id'))
    )
    op.create_table('reconcile_runs',
    sa.Column('id', Id, nullable=False),
    sa.Column('source_id', Id, nullable=False),
    sa.Column('started_at', When, nullable=False),
    sa.Column('finished_at', When, nullable=True),
    sa.Column('courses', sa.Integer(), nullable=False),
    sa.Column('users_checked', sa.Integer(), nullable=False),
    sa.Column('completions_found', sa.Integer(), nullable=False),
    sa.Column('credited', sa.Integer(), nullable=False),
    sa.Column('already_known', sa.Integer(), nullable=False),
    sa.Column('errors', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['source_id'], ['sources.id'], name=op.f('fk_reconcile_runs_source_id_sources')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reconcile_runs'))
    )
    with op.batch_alter_table('reconcile_runs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reconcile_runs_source_id'), ['source_id'], unique=False)
    op.create_table('reconcile_leases',
    sa.Column('source_id', Id, nullable=False),
    sa.Column('holder', sa.String(length=100), nullable=True),
    sa.Column('expires_at', When, nullable=False),
    sa.ForeignKeyConstraint(['source_id'], ['sources.id'], name=op.f('fk_reconcile_leases_source_id_sources')),
    sa.PrimaryKeyConstraint('source_id', name=op.f('pk_reconcile_leases'))
    )
    op.create_table('reconcile_requests',
    sa.Column('source_id', Id, nullable=False),
    sa.Column('requested_at', When, nullable=False),
    sa.Column('requested_by', sa.String(length=255), nullable=True),
    sa.ForeignKeyConstraint(['source_id'], ['sources.id'], name=op.f('fk_reconcile_requests_source_id_sources')),
    sa.PrimaryKeyConstraint('source_id', name=op.f('pk_reconcile_requests'))
    )


def downgrade() -> None:
    op.drop_table('reconcile_requests')
    op.drop_table('reconcile_leases')
    with op.batch_alter_table('reconcile_runs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reconcile_runs_source_id'))
    op.drop_table('reconcile_runs')
    op.drop_table('reconcile_marks')
    op.drop_table('source_connections')
