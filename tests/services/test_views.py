"""A use-case reads its release once and derives the view it returns from the facts it
changed; the card's sender shows that view without reading the release again. The view
derived is the one a fresh read finds."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event

from bot.domain.model import ItemStatus, ReleaseState
from bot.domain.view import ReleaseView
from bot.services.container import Services
from bot.services.deps import Deps
from tests.services.conftest import CHANNEL, NON_FINAL, make_ready


@contextmanager
def signature_reads(deps: Deps) -> Iterator[list[str]]:
    """Every SELECT of the signatures table the bot runs meanwhile (one per view read)."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "FROM signatures" in statement:
            seen.append(statement)

    engine = deps.db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


async def fresh(services: Services, release_id: int) -> ReleaseView:
    return await services.releases.view(release_id)


async def test_each_use_case_returns_the_view_a_fresh_read_finds(deps: Deps) -> None:
    services = Services.build(deps)
    releases, signoff = services.releases, services.signoff
    opened = await releases.open("LUMINES 1.0.0", "abc", "UREL", CHANNEL)
    release_id = opened.release.id
    await deps.tasks.drain()  # the checks opening started
    await make_ready(deps, release_id)
    app = deps.settings.app

    for role, user in NON_FINAL:
        _, view = await signoff.sign(release_id, role, user, app.roles[role].attestations, "ok")
        assert view == await fresh(services, release_id), role
    view = await signoff.withdraw(release_id, "UPRD")
    assert view == await fresh(services, release_id)
    view = await signoff.reject(release_id, "USEC", "not yet")
    assert view.release.state is ReleaseState.BLOCKED
    assert view == await fresh(services, release_id)
    view = await signoff.withdraw_rejection(release_id, "USEC")
    assert view == await fresh(services, release_id)
    view = await signoff.set_ticks(release_id, "UOPS", ["cluster_operational"], set())
    assert view == await fresh(services, release_id)
    view = await services.checks.record_external(
        release_id, "health_app", ItemStatus.FAIL, "503", {}, actor="api"
    )
    assert view == await fresh(services, release_id)
    view = await releases.cancel(release_id, "UREL")
    assert view.release.state is ReleaseState.CANCELLED
    assert view == await fresh(services, release_id)


async def test_a_signature_reads_the_release_once_and_the_card_reads_it_not_at_all(
    deps: Deps,
) -> None:
    services = Services.build(deps)
    opened = await services.releases.open("LUMINES 1.0.0", "abc", "UREL", CHANNEL)
    release_id = opened.release.id
    await deps.tasks.drain()
    attestations = deps.settings.app.roles["engineering_lead"].attestations
    with signature_reads(deps) as reads:
        _, signed = await services.signoff.sign(
            release_id, "engineering_lead", "UENG", attestations, None
        )
    assert len(reads) == 1  # the view before; the one after is derived from it

    (pending,) = await services.outbox.cards()
    with signature_reads(deps) as reads:
        view, version = await services.outbox.card(pending)
    assert reads == [] and view is signed and version == pending.version

    # A version no transaction here built a view for (a bare bump) is read, with its version.
    async with deps.db.write() as uow:
        bumped = await uow.releases.touch_card(release_id)
    (pending,) = await services.outbox.cards()
    with signature_reads(deps) as reads:
        view, version = await services.outbox.card(pending)
    assert len(reads) == 1 and version == bumped and view == signed
