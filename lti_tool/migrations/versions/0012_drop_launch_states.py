"""lti_launch_states: dropped (a login's state is signed, not stored)

The OIDC login no longer writes its state; the launch checks a signed, expiring state and consumes
the nonce that belongs to it (lti_tool.lti.login_state). Rows left by a tool stopped mid-login are
states no launch can use any more: those logins are opened again from the course.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 02:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import lti_tool.models.base

revision: str = '0012'
down_revision: str | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('lti_launch_states', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_lti_launch_states_expires_at'))
    op.drop_table('lti_launch_states')


def downgrade() -> None:
    op.create_table('lti_launch_states',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('state', sa.String(length=128), nullable=False),
    sa.Column('nonce', sa.String(length=128), nullable=False),
    sa.Column('platform_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('expires_at', lti_tool.models.base.UtcDateTime(timezone=True), nullable=False),
    sa.Column('created_at', lti_tool.models.base.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['platform_id'], ['lti_platforms.id'], name=op.f('fk_lti_launch_states_platform_id_lti_platforms')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lti_launch_states')),
    sa.UniqueConstraint('state', name=op.f('uq_lti_launch_states_state'))
    )
    with op.batch_alter_table('lti_launch_states', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lti_launch_states_expires_at'), ['expires_at'], unique=False)
