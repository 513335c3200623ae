"""retakes: a completion per completion time; awards keyed by course and period

course_completions: unique per (learner, course, completed_at) instead of (learner, course), so a
retake is a completion of its own (a re-sent event, with the same time, still is not).
awards.course_key, awards.period: the plugin's retake policy; unique per (learner, credential,
course_key, period, revision). Existing awards are keyed as their plugin keys new ones: with the
deployment's rules (config/credit_rules.toml, the date of completion in its time zone) when
``lti-tool init`` upgrades, the plugins' defaults in UTC otherwise; an existing award whose key an earlier award already holds
(the same AAPC index number under two LMS courses) is keyed ``legacy:<award id>``, so no award,
ledger entry or claim changes. Progress counts such a course once.
outside_credits: credit learners earned outside the LMS (self-reported until verified).
renewal_confirmations: the renewal items (fees, memberships, volunteer hours) learners confirmed.
course_mappings.max_minutes: the ceiling on measured time (xAPI result.duration).
lms_events.status: 32 characters, for "already credited this cycle" (SQLite enforces no length).

On SQLite a unique constraint is changed by rebuilding the table; foreign keys are deferred to the
commit meanwhile, so the rows that reference the rebuilt table are checked against it then.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 00:30:00
"""

from collections.abc import Sequence
from datetime import UTC, date
from decimal import Decimal

import sqlalchemy as sa
from alembic import op

import lti_tool.models.base

revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
_AWARD_COLUMNS = (
    'id', 'completion_id', 'learner_id', 'source_id', 'course_id', 'credential', 'course_key', 'period',
    'revision', 'amount', 'unit', 'category', 'index_number', 'reason', 'tags', 'minutes', 'activity',
    'rule_version', 'settings', 'completed_at', 'created_at',
)
_COMPLETION_COLUMNS = (
    'id', 'learner_id', 'source_id', 'course_id', 'course_name', 'completed_at', 'measured_minutes',
    'event_id', 'created_at',
)


def _completions_table(unique: tuple[str, ...]) -> None:
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
    sa.ForeignKeyConstraint(['event_id'], ['lms_events.id'], name=op.f('fk_course_completions_event_id_lms_events')),
    sa.ForeignKeyConstraint(['learner_id'], ['learners.id'], name=op.f('fk_course_completions_learner_id_learners')),
    sa.ForeignKeyConstraint(['source_id'], ['sources.id'], name=op.f('fk_course_completions_source_id_sources')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_course_completions')),
    sa.UniqueConstraint(*unique, name=op.f('uq_course_completions_' + '_'.join(unique))),
    )
    op.create_index(op.f('ix_course_completions_source_id'), 'course_completions', ['source_id'], unique=False)


def _awards_table(keyed: bool) -> None:
    keys = [
        sa.Column('course_key', sa.String(length=2100), nullable=False),
        sa.Column('period', sa.String(length=64), nullable=False),
    ] if keyed else []
    unique = [sa.UniqueConstraint('learner_id', 'credential', 'course_key', 'period', 'revision',
                                  name=op.f('uq_awards_learner_id_credential_course_key_period_revision'))] if keyed else []
    op.create_table('awards',
    sa.Column('id', _ID, nullable=False),
    sa.Column('completion_id', _ID, nullable=False),
    sa.Column('learner_id', _ID, nullable=False),
    sa.Column('source_id', _ID, nullable=False),
    sa.Column('course_id', sa.String(length=2000), nullable=False),
    sa.Column('credential', sa.String(length=64), nullable=False),
    *keys,
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('amount', lti_tool.models.base.Credit(length=40), nullable=False),
    sa.Column('unit', sa.String(length=64), nullable=False),
    sa.Column('category', sa.String(length=64), nullable=True),
    sa.Column('index_number', sa.String(length=64), nullable=True),
    sa.Column('reason', sa.String(length=1000), nullable=False),
    sa.Column('tags', sa.JSON(), nullable=False),
    sa.Column('minutes', sa.Integer(), nullable=False),
    sa.Column('activity', sa.JSON(), nullable=False),
    sa.Column('rule_version', sa.String(length=64), nullable=False),
    sa.Column('settings', sa.JSON(), nullable=False),
    sa.Column('completed_at', lti_tool.models.base.UtcDateTime(timezone=True), nullable=False),
    sa.Column('created_at', lti_tool.models.base.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['completion_id'], ['course_completions.id'], name=op.f('fk_awards_completion_id_course_completions')),
    sa.ForeignKeyConstraint(['learner_id'], ['learners.id'], name=op.f('fk_awards_learner_id_learners')),
    sa.ForeignKeyConstraint(['source_id'], ['sources.id'], name=op.f('fk_awards_source_id_sources')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_awards')),
    sa.UniqueConstraint('completion_id', 'credential', 'revision', name=op.f('uq_awards_completion_id_credential_revision')),
    *unique,
    )
    op.create_index(op.f('ix_awards_credential'), 'awards', ['credential'], unique=False)
    op.create_index(op.f('ix_awards_learner_id'), 'awards', ['learner_id'], unique=False)


def _rebuild_sqlite(table: str, columns: tuple[str, ...], create: object) -> None:
    """Rebuild ``table`` under its own name (create a copy, drop, create, copy back): SQLite cannot
    change a unique constraint in place, and renaming a rebuilt copy would leave the foreign keys
    that point at the table unresolved at commit."""
    copy = f'_{table}_0006'
    names = ', '.join(columns)
    op.execute(f'CREATE TABLE {copy} AS SELECT {names} FROM {table}')
    op.execute(f'DROP TABLE {table}')
    create()  # type: ignore[operator]
    op.execute(f'INSERT INTO {table} ({names}) SELECT {names} FROM {copy}')
    op.execute(f'DROP TABLE {copy}')


def _backfill_keys() -> None:
    """Each existing award's retake key, computed by its plugin as for a new award."""
    from alembic import context

    from lti_tool.credits.api import Award, Holding
    from lti_tool.credits.registry import discover_rules

    rulebook = context.config.attributes.get('rulebook')  # the configured rules: lti_tool.schema.upgrade
    if rulebook is not None:
        rules = {credential: rulebook.get(credential) for credential in rulebook.credentials}
        zone = rulebook.zone
    else:
        rules = {credential: cls() for credential, cls in discover_rules().items()}
        zone = UTC
    bind = op.get_bind()
    held = sa.table('learner_credentials', sa.column('learner_id', sa.Integer), sa.column('credential', sa.String),
                    sa.column('certified_on', sa.Date), sa.column('cycle_start', sa.Date))
    holdings = {
        (row.learner_id, row.credential): Holding(row.credential, row.certified_on, row.cycle_start)
        for row in bind.execute(sa.select(held))
    }
    awards = sa.table(
        'awards', sa.column('id', sa.Integer), sa.column('learner_id', sa.Integer),
        sa.column('credential', sa.String), sa.column('course_id', sa.String),
        sa.column('index_number', sa.String), sa.column('revision', sa.Integer),
        sa.column('completed_at', lti_tool.models.base.UtcDateTime(timezone=True)),
        sa.column('course_key', sa.String), sa.column('period', sa.String),
    )
    taken: set[tuple[object, ...]] = set()
    updates: list[dict[str, object]] = []
    for row in bind.execute(sa.select(awards).order_by(awards.c.id)):
        rule = rules.get(row.credential)
        on: date = row.completed_at.astimezone(zone).date()
        if rule is None:
            course, period = f'course:{row.course_id}', f'legacy:{row.id}'
        else:
            holding = holdings.get((row.learner_id, row.credential), Holding(row.credential))
            award = Award(row.credential, Decimal(0), '', '', index_number=row.index_number)
            key = rule.repeat_key(row.course_id, award, holding, on)
            course, period = key.course, key.period
        if (row.learner_id, row.credential, course, period, row.revision) in taken:
            period = f'legacy:{row.id}'
        taken.add((row.learner_id, row.credential, course, period, row.revision))
        updates.append({'award_id': row.id, 'course_key': course, 'period': period})
    if updates:
        bind.execute(
            awards.update().where(awards.c.id == sa.bindparam('award_id'))
            .values(course_key=sa.bindparam('course_key'), period=sa.bindparam('period')),
            updates,
        )


def _confirmations_table() -> None:
    op.create_table('renewal_confirmations',
    sa.Column('id', _ID, nullable=False),
    sa.Column('learner_id', _ID, nullable=False),
    sa.Column('credential', sa.String(length=64), nullable=False),
    sa.Column('item', sa.String(length=64), nullable=False),
    sa.Column('confirmed_on', sa.Date(), nullable=False),
    sa.Column('amount', lti_tool.models.base.Credit(length=40), nullable=True),
    sa.Column('recorded_by', sa.String(length=16), nullable=False),
    sa.Column('created_at', lti_tool.models.base.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['learner_id'], ['learners.id'], name=op.f('fk_renewal_confirmations_learner_id_learners')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_renewal_confirmations')),
    sa.UniqueConstraint('learner_id', 'credential', 'item', 'confirmed_on',
                        name='uq_renewal_confirmations_learner_item_day'),
    )
    op.create_index(op.f('ix_renewal_confirmations_learner_id'), 'renewal_confirmations', ['learner_id'],
                    unique=False)


def _outside_table() -> None:
    op.create_table('outside_credits',
    sa.Column('id', _ID, nullable=False),
    sa.Column('learner_id', _ID, nullable=False),
    sa.Column('credential', sa.String(length=64), nullable=False),
    sa.Column('title', sa.String(length=500), nullable=False),
    sa.Column('provider', sa.String(length=500), nullable=False),
    sa.Column('activity_on', sa.Date(), nullable=False),
    sa.Column('minutes', sa.Integer(), nullable=False),
    sa.Column('activity', sa.JSON(), nullable=False),
    sa.Column('amount', lti_tool.models.base.Credit(length=40), nullable=False),
    sa.Column('unit', sa.String(length=64), nullable=False),
    sa.Column('category', sa.String(length=64), nullable=True),
    sa.Column('index_number', sa.String(length=64), nullable=True),
    sa.Column('tags', sa.JSON(), nullable=False),
    sa.Column('reason', sa.String(length=1000), nullable=False),
    sa.Column('rule_version', sa.String(length=64), nullable=False),
    sa.Column('settings', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('status_reason', sa.String(length=1000), nullable=True),
    sa.Column('certificate_file', sa.String(length=100), nullable=True),
    sa.Column('certificate_type', sa.String(length=32), nullable=True),
    sa.Column('recorded_by', sa.String(length=16), nullable=False),
    sa.Column('created_at', lti_tool.models.base.UtcDateTime(timezone=True), nullable=False),
    sa.Column('decided_at', lti_tool.models.base.UtcDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['learner_id'], ['learners.id'], name=op.f('fk_outside_credits_learner_id_learners')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outside_credits')),
    sa.UniqueConstraint('learner_id', 'credential', 'title', 'provider', 'activity_on',
                        name='uq_outside_credits_learner_activity'),
    )
    op.create_index(op.f('ix_outside_credits_learner_id'), 'outside_credits', ['learner_id'], unique=False)


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == 'sqlite'
    _confirmations_table()
    _outside_table()
    op.add_column('course_mappings', sa.Column('max_minutes', sa.Integer(), nullable=True))
    if sqlite:
        op.execute('PRAGMA defer_foreign_keys = ON')
    op.add_column('awards', sa.Column('course_key', sa.String(length=2100), nullable=True))
    op.add_column('awards', sa.Column('period', sa.String(length=64), nullable=True))
    _backfill_keys()
    if sqlite:
        _rebuild_sqlite('course_completions', _COMPLETION_COLUMNS,
                        lambda: _completions_table(('learner_id', 'course_id', 'completed_at')))
        _rebuild_sqlite('awards', _AWARD_COLUMNS, lambda: _awards_table(keyed=True))
        return
    op.alter_column('lms_events', 'status', type_=sa.String(length=32), existing_type=sa.String(length=16))
    op.drop_constraint('uq_course_completions_learner_id_course_id', 'course_completions', type_='unique')
    op.create_unique_constraint('uq_course_completions_learner_id_course_id_completed_at', 'course_completions',
                                ['learner_id', 'course_id', 'completed_at'])
    op.alter_column('awards', 'course_key', nullable=False)
    op.alter_column('awards', 'period', nullable=False)
    op.create_unique_constraint('uq_awards_learner_id_credential_course_key_period_revision', 'awards',
                                ['learner_id', 'credential', 'course_key', 'period', 'revision'])


def downgrade() -> None:
    """Back to one completion per learner and course: fails (as it must) once a retake is stored."""
    sqlite = op.get_bind().dialect.name == 'sqlite'
    op.drop_index(op.f('ix_renewal_confirmations_learner_id'), table_name='renewal_confirmations')
    op.drop_table('renewal_confirmations')
    op.drop_index(op.f('ix_outside_credits_learner_id'), table_name='outside_credits')
    op.drop_table('outside_credits')
    with op.batch_alter_table('course_mappings') as batch_op:
        batch_op.drop_column('max_minutes')
    if sqlite:
        op.execute('PRAGMA defer_foreign_keys = ON')
        old = tuple(c for c in _AWARD_COLUMNS if c not in ('course_key', 'period'))
        _rebuild_sqlite('awards', old, lambda: _awards_table(keyed=False))
        _rebuild_sqlite('course_completions', _COMPLETION_COLUMNS,
                        lambda: _completions_table(('learner_id', 'course_id')))
        return
    op.alter_column('lms_events', 'status', type_=sa.String(length=16), existing_type=sa.String(length=32))
    op.drop_constraint('uq_awards_learner_id_credential_course_key_period_revision', 'awards', type_='unique')
    op.drop_column('awards', 'period')
    op.drop_column('awards', 'course_key')
    op.drop_constraint('uq_course_completions_learner_id_course_id_completed_at', 'course_completions',
                       type_='unique')
    op.create_unique_constraint('uq_course_completions_learner_id_course_id', 'course_completions',
                                ['learner_id', 'course_id'])
