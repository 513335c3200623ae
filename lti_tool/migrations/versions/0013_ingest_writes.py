"""ingest writes: an event's completions checked against it at commit; indexes no query needs

- course_completions.event_id: the reference to the event is checked at commit (deferred), so
  ingestion can credit a batch first and store its events once, with what became of them, instead
  of storing them and then updating every one. PostgreSQL alters the constraint; SQLite, which
  cannot, rebuilds the table.
- awards.learner_id and ledger_entries.award_id lose their own indexes: each leads a unique key
  that serves the same lookups.
- lms_events.status: indexed only where a retry looks (failed and parked events).

No data changes.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 07:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import lti_tool.models.base

revision: str = '0013'
down_revision: str | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_EVENT_FK = 'fk_course_completions_event_id_lms_events'
_RETRY = sa.text("status IN ('failed', 'parked')")
_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
_COMPLETION_COLUMNS = ('id', 'learner_id', 'source_id', 'course_id', 'course_name', 'completed_at',
                       'measured_minutes', 'event_id', 'created_at')


def _completions_table(deferred: bool) -> None:
    op.create_table('course_completions',
    sa.Column('id', _ID, nullable=False),
    sa.Column('learner_id', _ID, nullable=False),
    sa.Column('source_id', _ID, nullable=False),
    sa.Column('course_id', sa.String(length=2000), nullable=False),
    sa.Column('course_name', sa.String(length=500), nullable=True),
    sa.Column('completed_at', lti_tool.models.base.UtcDateTime(timezone=True), nullable=False),
    sa.Column('measured_minutes', sa.Integer(), nullable=True),
    sa.Column('event_id', _ID, nullable=False),
    sa.Column('created_at', lti_tool.models.base.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['lms_events.id'], name=op.f(_EVENT_FK),
                            deferrable=True if deferred else None, initially='DEFERRED' if deferred else None),
    sa.ForeignKeyConstraint(['learner_id'], ['learners.id'], name=op.f('fk_course_completions_learner_id_learners')),
    sa.ForeignKeyConstraint(['source_id'], ['sources.id'], name=op.f('fk_course_completions_source_id_sources')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_course_completions')),
    sa.UniqueConstraint('learner_id', 'course_id', 'completed_at',
                        name=op.f('uq_course_completions_learner_id_course_id_completed_at')),
    )
    op.create_index(op.f('ix_course_completions_source_id'), 'course_completions', ['source_id'], unique=False)


def _event_reference(deferred: bool) -> None:
    if op.get_bind().dialect.name == 'postgresql':
        mode = 'DEFERRABLE INITIALLY DEFERRED' if deferred else 'NOT DEFERRABLE'
        op.execute(f'ALTER TABLE course_completions ALTER CONSTRAINT {_EVENT_FK} {mode}')
        return
    # SQLite: rebuilt under its own name (see 0006: a renamed copy would leave the awards'
    # references to it unresolved), its references checked at commit meanwhile.
    op.execute('PRAGMA defer_foreign_keys = ON')
    copy = '_course_completions_0013'
    names = ', '.join(_COMPLETION_COLUMNS)
    op.execute(f'CREATE TABLE {copy} AS SELECT {names} FROM course_completions')
    op.execute('DROP TABLE course_completions')
    _completions_table(deferred)
    op.execute(f'INSERT INTO course_completions ({names}) SELECT {names} FROM {copy}')
    op.execute(f'DROP TABLE {copy}')


def upgrade() -> None:
    op.drop_index('ix_awards_learner_id', table_name='awards')
    op.drop_index('ix_ledger_entries_award_id', table_name='ledger_entries')
    op.drop_index('ix_lms_events_status', table_name='lms_events')
    op.create_index('ix_lms_events_retry', 'lms_events', ['status'], unique=False,
                    postgresql_where=_RETRY, sqlite_where=_RETRY)
    _event_reference(deferred=True)


def downgrade() -> None:
    _event_reference(deferred=False)
    op.drop_index('ix_lms_events_retry', table_name='lms_events')
    op.create_index('ix_lms_events_status', 'lms_events', ['status'], unique=False)
    op.create_index('ix_ledger_entries_award_id', 'ledger_entries', ['award_id'], unique=False)
    op.create_index('ix_awards_learner_id', 'awards', ['learner_id'], unique=False)
