"""Column types shared by the migration scripts (kept in step with core/db.py)."""

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
TS = sa.DateTime(timezone=True)


def created_at(name: str = "created_at") -> sa.Column:
    return sa.Column(name, TS, server_default=sa.func.now(), nullable=True)
