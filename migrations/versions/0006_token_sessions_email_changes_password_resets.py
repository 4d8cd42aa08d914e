"""Token sessions (so a password change or reset can revoke them all), email changes and
password resets (their codes kept as SHA-256 digests only).

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def _user_id(nullable: bool = False) -> sa.Column:
    return sa.Column("user_id", sa.Uuid(), nullable=nullable)


def _user_key(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["user_id"], ["users.id"], name=op.f(f"fk_{table}_user_id_users"), ondelete="CASCADE"
    )


def upgrade():
    op.create_table(
        "token_sessions",
        sa.Column("id", sa.Uuid(), nullable=False),
        _user_id(),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        _user_key("token_sessions"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_token_sessions")),
    )
    op.create_index(op.f("ix_token_sessions_user_id"), "token_sessions", ["user_id"])
    op.create_index(op.f("ix_token_sessions_expires_at"), "token_sessions", ["expires_at"])

    op.create_table(
        "email_changes",
        sa.Column("id", sa.Uuid(), nullable=False),
        _user_id(),
        sa.Column("new_email", sa.String(length=254), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        _user_key("email_changes"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_email_changes")),
    )
    op.create_index(op.f("ix_email_changes_user_id"), "email_changes", ["user_id"])

    op.create_table(
        "password_resets",
        sa.Column("id", sa.Uuid(), nullable=False),
        _user_id(nullable=True),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        _user_key("password_resets"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_password_resets")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_password_resets_token_hash")),
    )
    op.create_index(op.f("ix_password_resets_user_id"), "password_resets", ["user_id"])
    op.create_index(op.f("ix_password_resets_expires_at"), "password_resets", ["expires_at"])


def downgrade():
    op.drop_index(op.f("ix_password_resets_expires_at"), table_name="password_resets")
    op.drop_index(op.f("ix_password_resets_user_id"), table_name="password_resets")
    op.drop_table("password_resets")
    op.drop_index(op.f("ix_email_changes_user_id"), table_name="email_changes")
    op.drop_table("email_changes")
    op.drop_index(op.f("ix_token_sessions_expires_at"), table_name="token_sessions")
    op.drop_index(op.f("ix_token_sessions_user_id"), table_name="token_sessions")
    op.drop_table("token_sessions")
