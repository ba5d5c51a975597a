"""Storage: SQLAlchemy tables on SQLite, the session factory, repositories returning domain values."""

from bot.db.engine import Database
from bot.db.repo import Repo

__all__ = ["Database", "Repo"]
