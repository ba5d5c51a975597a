"""Storage: SQLAlchemy tables on SQLite, the engine and its transactions, and one repository
per aggregate, held by the unit of work a transaction yields. Repositories return domain
values; a unique constraint refusing a write becomes the domain's `Conflict`."""

from bot.db.engine import Database
from bot.db.uow import UnitOfWork

__all__ = ["Database", "UnitOfWork"]
