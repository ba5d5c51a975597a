"""Releases: opening, finding, their state, section 10's record, and the card's versions."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, select, true, update

from bot.db import rows
from bot.db.repository import Repository, columns, table
from bot.db.tables import ReleaseRow
from bot.domain.authorization import DeploymentPlan
from bot.domain.model import PRE_DEPLOY, Release, ReleaseState

MONITORED = (ReleaseState.DEPLOYED.value, ReleaseState.MONITORING.value)

# Read or written on every view: built once (building and keying a statement costs more
# than SQLite takes to run it).
_GET = select(*columns(ReleaseRow)).where(ReleaseRow.id == bindparam("release"))
_GET_LOCKED = _GET.with_for_update()
_TOUCH_CARD = (
    update(table(ReleaseRow))
    .where(table(ReleaseRow).c.id == bindparam("release"))
    .values(card_version=table(ReleaseRow).c.card_version + 1)
    .returning(table(ReleaseRow).c.card_version)
)


@dataclass(frozen=True)
class PendingCard:
    release_id: int
    channel: str
    card_ts: str | None
    version: int
    attempted: bool = False  # the first post was tried: it may be in the channel already
    product: str = ""


class ReleaseRepository(Repository):
    """Releases. A release from before products (product '') reads as the one product's,
    and is found with it, until the bot gives it that product (`adopt`)."""

    def _release(self, row: Any) -> Release:
        found = rows.release(row)
        legacy = self.uow.legacy
        return replace(found, product=legacy) if legacy and not found.product else found

    def _scope(self, products: Sequence[str]) -> list[str]:
        """PRODUCTS as stored: the one product's own include those from before products."""
        legacy = self.uow.legacy
        return [*products, ""] if legacy and legacy in products else list(products)

    async def add(
        self,
        name: str,
        channel: str,
        ref: str | None,
        created_by: str,
        now: datetime,
        config_version: str,
        product: str = "",
    ) -> Release:
        row = ReleaseRow(
            product=product or self.uow.legacy or "",
            name=name,
            channel=channel,
            ref=ref,
            state=ReleaseState.OPEN.value,
            created_by=created_by,
            created_at=now,
            updated_at=now,
            config_version=config_version,
        )
        await self._insert(row)
        self.uow.outbox_changed()  # a new card to post
        return self._release(row)

    async def get(self, release_id: int) -> Release | None:
        """The release (in a write on PostgreSQL, its row locked until the commit)."""
        query = _GET_LOCKED if self.uow.locks else _GET
        row = (await self.session.execute(query, {"release": release_id})).first()
        return None if row is None else self._release(row)

    async def lock(self, release_id: int) -> None:
        """Hold the release's row until the commit (PostgreSQL writes; see UnitOfWork)."""
        if self.uow.locks:
            await self.session.execute(
                select(ReleaseRow.id).where(ReleaseRow.id == release_id).with_for_update()
            )

    async def by_name(self, name: str, product: str | None = None) -> Release | None:
        """The live release of that name (case-insensitive) in PRODUCT, else its newest
        cancelled one (PRODUCT None: in any product)."""
        found = await self.named(name, product)
        return found[0] if found else None

    async def named(self, name: str, product: str | None = None) -> list[Release]:
        """Each product's release of that name (case-insensitive): the live one, else the
        newest cancelled one; the product's newest first."""
        query = (
            select(*columns(ReleaseRow))
            .where(func.lower(ReleaseRow.name) == name.lower())
            .order_by(
                (ReleaseRow.state == ReleaseState.CANCELLED.value).asc(), ReleaseRow.id.desc()
            )
        )
        if product is not None:
            query = query.where(ReleaseRow.product.in_(self._scope([product])))
        chosen: dict[str, Release] = {}
        for row in (await self.session.execute(query)).all():
            release = self._release(row)
            chosen.setdefault(release.product, release)
        return list(chosen.values())

    async def by_ref(self, product: str, sha: str) -> Release | None:
        """PRODUCT's newest release whose ref is SHA or a prefix of it (7+ characters) and
        is still being signed, else its newest such release of any state but cancelled."""
        prefixes = [sha[:n] for n in range(7, len(sha) + 1)]
        query = (
            select(*columns(ReleaseRow))
            .where(
                ReleaseRow.product.in_(self._scope([product])),
                func.lower(ReleaseRow.ref).in_(prefixes),
                ReleaseRow.state != ReleaseState.CANCELLED.value,
            )
            .order_by(ReleaseRow.id.desc())
        )
        found = [self._release(row) for row in (await self.session.execute(query)).all()]
        active = [r for r in found if r.state.active]
        chosen = active or found
        return chosen[0] if chosen else None

    async def adopt(
        self, product: str, orphans: Sequence[str], channels: Sequence[str] | None = None
    ) -> int:
        """Give PRODUCT the releases of ORPHANS ('': from before products), of CHANNELS."""
        releases = table(ReleaseRow)
        query = update(releases).where(releases.c.product.in_(list(orphans)))
        if channels is not None:
            query = query.where(releases.c.channel.in_(list(channels)))
        done = await self.session.execute(query.values(product=product))
        return int(done.rowcount or 0)  # type: ignore[attr-defined]

    async def products(self) -> dict[str, int]:
        """How many releases each product id has."""
        found = await self.session.execute(
            select(ReleaseRow.product, func.count()).group_by(ReleaseRow.product)
        )
        return {product: int(n) for product, n in found.all()}

    async def find(
        self,
        states: Sequence[ReleaseState] | None = None,
        channel: str | None = None,
        limit: int = 50,
        offset: int = 0,
        products: Sequence[str] | None = None,
        by_product: bool = False,
    ) -> list[Release]:
        """Releases newest first (in these states, of this channel, of these products;
        BY_PRODUCT: each product's together, in the order of their ids)."""
        order = (
            (ReleaseRow.product, ReleaseRow.id.desc()) if by_product else (ReleaseRow.id.desc(),)
        )
        query = select(*columns(ReleaseRow)).order_by(*order).limit(limit).offset(offset)
        if states is not None:
            query = query.where(ReleaseRow.state.in_([s.value for s in states]))
        if channel is not None:
            query = query.where(ReleaseRow.channel == channel)
        if products is not None:
            query = query.where(ReleaseRow.product.in_(self._scope(products)))
        return [self._release(row) for row in (await self.session.execute(query)).all()]

    async def page(
        self, states: Sequence[ReleaseState], after: int = 0, limit: int = 50
    ) -> list[Release]:
        """Releases in these states, oldest first, from just after release id AFTER: walk
        them all a page at a time (each page its own short read)."""
        query = (
            select(*columns(ReleaseRow))
            .where(ReleaseRow.state.in_([s.value for s in states]), ReleaseRow.id > after)
            .order_by(ReleaseRow.id)
            .limit(limit)
        )
        return [self._release(row) for row in (await self.session.execute(query)).all()]

    async def newest_active(self, channel: str | None) -> Release | None:
        return await self.newest(PRE_DEPLOY, channel)

    async def newest(
        self,
        states: Collection[ReleaseState],
        channel: str | None,
        products: Sequence[str] | None = None,
    ) -> Release | None:
        found = await self.find(sorted(states), channel=channel, limit=1, products=products)
        return found[0] if found else None

    async def monitored(self) -> list[int]:
        """Releases deployed and not done: their phases are running."""
        found = await self.session.scalars(
            select(ReleaseRow.id).where(ReleaseRow.state.in_(MONITORED)).order_by(ReleaseRow.id)
        )
        return list(found.all())

    async def count(
        self, states: Sequence[ReleaseState], products: Sequence[str] | None = None
    ) -> int:
        query = (
            select(func.count())
            .select_from(ReleaseRow)
            .where(ReleaseRow.state.in_([s.value for s in states]))
        )
        if products is not None:
            query = query.where(ReleaseRow.product.in_(self._scope(products)))
        return int(await self.session.scalar(query) or 0)

    async def count_by_state(self) -> dict[str, int]:
        found = await self.session.execute(
            select(ReleaseRow.state, func.count()).group_by(ReleaseRow.state)
        )
        return {state: int(n) for state, n in found.all()}

    async def count_by_product_state(self) -> dict[tuple[str, str], int]:
        found = await self.session.execute(
            select(ReleaseRow.product, ReleaseRow.state, func.count()).group_by(
                ReleaseRow.product, ReleaseRow.state
            )
        )
        counts: dict[tuple[str, str], int] = {}
        for product, state, n in found.all():
            key = (product or self.uow.legacy or "", state)
            counts[key] = counts.get(key, 0) + int(n)
        return counts

    async def set_ref(self, release_id: int, ref: str, now: datetime) -> None:
        await self._update(ReleaseRow, release_id, ref=ref, updated_at=now)

    async def set_state(
        self, release_id: int, state: ReleaseState, now: datetime, closed_by: str | None = None
    ) -> None:
        values: dict[str, Any] = {"state": state.value, "updated_at": now}
        if state is ReleaseState.APPROVED:
            values["approved_at"] = func.coalesce(ReleaseRow.approved_at, now)
        if closed_by is not None:
            values["closed_by"] = closed_by
        await self._update(ReleaseRow, release_id, **values)

    async def set_deployed(self, release_id: int, user: str, now: datetime) -> None:
        await self._update(
            ReleaseRow,
            release_id,
            state=ReleaseState.DEPLOYED.value,
            deployed_at=now,
            deployed_by=user,
            updated_at=now,
        )

    # --- section 10 -------------------------------------------------------------------------

    async def record_plan(self, release_id: int, plan: DeploymentPlan, now: datetime) -> None:
        """Store the final approver's record; call it in the transaction that signs."""
        await self._update(
            ReleaseRow,
            release_id,
            window_start=plan.window_start,
            window_end=plan.window_end,
            deploy_team=list(plan.team),
            rollback_plan=plan.rollback_plan,
            updated_at=now,
        )

    async def plan_window(
        self, release_id: int, start: datetime, end: datetime, now: datetime
    ) -> None:
        """A window planned when the release is opened (the final approver may change it)."""
        await self._update(
            ReleaseRow, release_id, window_start=start, window_end=end, updated_at=now
        )

    async def previous_rollback_plan(
        self, channel: str, before_release_id: int, product: str | None = None
    ) -> str | None:
        """The rollback plan last recorded on an earlier release of this channel (and of
        PRODUCT)."""
        products = self._scope([product]) if product is not None else None
        return (
            await self.session.scalars(
                select(ReleaseRow.rollback_plan)
                .where(
                    ReleaseRow.channel == channel,
                    ReleaseRow.product.in_(products) if products is not None else true(),
                    ReleaseRow.id < before_release_id,
                    ReleaseRow.rollback_plan.is_not(None),
                    ReleaseRow.rollback_plan != "",
                )
                .order_by(ReleaseRow.id.desc())
                .limit(1)
            )
        ).first()

    # --- the card ---------------------------------------------------------------------------

    async def touch_card(self, release_id: int) -> int:
        """The card must be re-rendered: bump its version (updates coalesce on it); returns
        the new version. The sender is woken when the transaction commits."""
        version = await self.session.scalar(_TOUCH_CARD, {"release": release_id})
        self.uow.outbox_changed()
        return int(version or 0)

    async def pending_cards(self) -> list[PendingCard]:
        found = (
            await self.session.execute(
                select(
                    ReleaseRow.id,
                    ReleaseRow.channel,
                    ReleaseRow.card_ts,
                    ReleaseRow.card_version,
                    ReleaseRow.card_attempted,
                    ReleaseRow.product,
                )
                .where(ReleaseRow.card_version > ReleaseRow.card_sent_version)
                .order_by(ReleaseRow.id)
            )
        ).all()
        legacy = self.uow.legacy or ""
        return [
            PendingCard(
                r.id, r.channel, r.card_ts, r.card_version, r.card_attempted, r.product or legacy
            )
            for r in found
        ]

    async def pending_card_count(self) -> int:
        return int(
            await self.session.scalar(
                select(func.count())
                .select_from(ReleaseRow)
                .where(ReleaseRow.card_version > ReleaseRow.card_sent_version)
            )
            or 0
        )

    async def card_attempt(self, release_id: int) -> None:
        await self._update(ReleaseRow, release_id, card_attempted=True)

    async def card_sent(self, release_id: int, version: int, card_ts: str | None = None) -> None:
        values: dict[str, Any] = {
            "card_sent_version": self._greatest(ReleaseRow.card_sent_version, version)
        }
        if card_ts is not None:
            values["card_ts"] = card_ts
        await self._update(ReleaseRow, release_id, **values)
