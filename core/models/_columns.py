"""Column helpers shared by every model module."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from core.db import UTCDateTime


def _created_at() -> Mapped[datetime]:
    return mapped_column(UTCDateTime(), server_default=func.now())


def _updated_at() -> Mapped[datetime]:
    return mapped_column(UTCDateTime(), server_default=func.now(), onupdate=func.now())
