"""Proving the record wasn't edited: walk the audit log's hash chain from the first event."""

from __future__ import annotations

from bot.db import Database
from bot.domain.audit import GENESIS, ChainReport, chain_problem

BATCH = 1000


async def verify_chain(db: Database) -> ChainReport:
    """Each event must hash its own content and its predecessor's hash; the first that
    doesn't is named (edited content, a deleted or inserted event, a forged hash)."""
    previous, count, last_id = GENESIS, 0, 0
    while True:
        async with db.read() as uow:
            events = await uow.audit.events(after=last_id, limit=BATCH)
        if not events:
            return ChainReport(count, previous)
        for event in events:
            problem = chain_problem(event, previous)
            if problem is not None:
                return ChainReport(count, previous, problem)
            previous, count, last_id = event.hash, count + 1, event.id
