"""Token signing keys in the database, so every process accepts every token, with rotation

Tokens signed with the old ``data_dir/token.key`` are not carried over: they name no key, so
they are refused and clients authenticate again (they live an hour by default).

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "token_keys",
        sa.Column("kid", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("secret", sa.LargeBinary(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("kid", name=op.f("pk_token_keys")),
    )


def downgrade() -> None:
    op.drop_table("token_keys")
