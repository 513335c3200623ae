"""awards by course: an index on awards (source_id, course_id)

The instructor page and its CSV list a course's awards (``list_awards(source_id=…, course=…)``);
without it both databases read every award of every course.

Revision ID: 0014
Revises: 0008
Create Date: 2026-12-02 00:30:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0014'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index('ix_awards_source_id_course_id', 'awards', ['source_id', 'course_id'])


def downgrade() -> None:
    op.drop_index('ix_awards_source_id_course_id', table_name='awards')
