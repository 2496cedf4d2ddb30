"""The declarative base every model shares: one registry, one `Base.metadata` (what Alembic compares with).

Import `Base` from `storage.models`, not from here: the package loads every model module, so its metadata holds
every table (this module alone holds none).
"""

from __future__ import annotations

from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    pass
