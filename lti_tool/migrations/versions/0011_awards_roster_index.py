"""awards: an index for the instructor's course roster

The roster groups a course's awards by learner and credential; with this index a course of 10,000
learners is read in index order instead of scanning every award of every course. An index only:
no data changes.

Revision ID: 0011
Revises: 0009
Create Date: 2026-12-02 01:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0011'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index('ix_awards_course_roster', 'awards',
                    ['source_id', 'course_id', 'learner_id', 'credential', 'unit'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_awards_course_roster', table_name='awards')
