"""Dead outbox messages: `dead_at` marks a message that cannot be delivered (a permanent error,
or OUTBOX_MAX_ATTEMPTS failures); the index of due messages leaves them out.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("dead_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.drop_index(
            "ix_outbox_messages_due",
            postgresql_where=sa.text("sent_at IS NULL"),
            sqlite_where=sa.text("sent_at IS NULL"),
        )
        batch_op.create_index(
            "ix_outbox_messages_due",
            ["next_attempt_at"],
            unique=False,
            postgresql_where=sa.text("sent_at IS NULL AND dead_at IS NULL"),
            sqlite_where=sa.text("sent_at IS NULL AND dead_at IS NULL"),
        )


def downgrade():
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_outbox_messages_due",
            postgresql_where=sa.text("sent_at IS NULL AND dead_at IS NULL"),
            sqlite_where=sa.text("sent_at IS NULL AND dead_at IS NULL"),
        )
        batch_op.create_index(
            "ix_outbox_messages_due",
            ["next_attempt_at"],
            unique=False,
            postgresql_where=sa.text("sent_at IS NULL"),
            sqlite_where=sa.text("sent_at IS NULL"),
        )
        batch_op.drop_column("dead_at")
