"""An index of the invites that are not cancelled, by organization and creation time: the
default invite listing and its count read it alone.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("organization_invites", schema=None) as batch_op:
        batch_op.create_index(
            "ix_organization_invites_open_organization_id_created_at",
            ["organization_id", "created_at"],
            unique=False,
            postgresql_where=sa.text("cancelled_at IS NULL"),
            sqlite_where=sa.text("cancelled_at IS NULL"),
        )


def downgrade():
    with op.batch_alter_table("organization_invites", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_organization_invites_open_organization_id_created_at",
            postgresql_where=sa.text("cancelled_at IS NULL"),
            sqlite_where=sa.text("cancelled_at IS NULL"),
        )
