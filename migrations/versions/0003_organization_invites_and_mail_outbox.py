"""organization invites and mail outbox

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 04:30:17.993007

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade():

    op.create_table(
        "outbox_messages",
        sa.Column("recipient", sa.String(length=254), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("text_body", sa.Text(), nullable=False),
        sa.Column("html_body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_messages")),
    )
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.create_index(
            "ix_outbox_messages_due",
            ["next_attempt_at"],
            unique=False,
            postgresql_where=sa.text("sent_at IS NULL"),
            sqlite_where=sa.text("sent_at IS NULL"),
        )

    op.create_table(
        "organization_invites",
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("recipient_email", sa.String(length=254), nullable=False),
        sa.Column("invite_user_as", sa.String(length=16), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("invited_by_user_id", sa.Uuid(), nullable=True),
        sa.Column("accepted_by_user_id", sa.Uuid(), nullable=True),
        sa.Column("cancelled_by_user_id", sa.Uuid(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_in_db_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "invite_user_as IN ('admin', 'member')",
            name=op.f("ck_organization_invites_invite_user_as"),
        ),
        sa.ForeignKeyConstraint(
            ["accepted_by_user_id"],
            ["users.id"],
            name=op.f("fk_organization_invites_accepted_by_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["cancelled_by_user_id"],
            ["users.id"],
            name=op.f("fk_organization_invites_cancelled_by_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["invited_by_user_id"],
            ["users.id"],
            name=op.f("fk_organization_invites_invited_by_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_organization_invites_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organization_invites")),
        sa.UniqueConstraint("code", name=op.f("uq_organization_invites_code")),
    )
    with op.batch_alter_table("organization_invites", schema=None) as batch_op:
        batch_op.create_index(
            "ix_organization_invites_organization_id_created_at",
            ["organization_id", "created_at"],
            unique=False,
        )
        batch_op.create_index(
            "ix_organization_invites_organization_id_updated_in_db_at",
            ["organization_id", "updated_in_db_at"],
            unique=False,
        )
        batch_op.create_index(
            "uq_organization_invites_open_recipient",
            ["organization_id", "recipient_email"],
            unique=True,
            postgresql_where=sa.text("accepted_at IS NULL AND cancelled_at IS NULL"),
            sqlite_where=sa.text("accepted_at IS NULL AND cancelled_at IS NULL"),
        )


def downgrade():

    with op.batch_alter_table("organization_invites", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_organization_invites_open_recipient",
            postgresql_where=sa.text("accepted_at IS NULL AND cancelled_at IS NULL"),
            sqlite_where=sa.text("accepted_at IS NULL AND cancelled_at IS NULL"),
        )
        batch_op.drop_index("ix_organization_invites_organization_id_updated_in_db_at")
        batch_op.drop_index("ix_organization_invites_organization_id_created_at")

    op.drop_table("organization_invites")
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_outbox_messages_due",
            postgresql_where=sa.text("sent_at IS NULL"),
            sqlite_where=sa.text("sent_at IS NULL"),
        )

    op.drop_table("outbox_messages")
