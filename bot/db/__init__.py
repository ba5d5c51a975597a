"""Storage: SQLAlchemy tables on SQLite, the session factory, and the repository."""

from bot.db.engine import Database
from bot.db.repo import Repo

__all__ = ["Database", "Repo"]
