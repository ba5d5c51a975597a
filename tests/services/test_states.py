"""Each state means one thing: a person who rejects no longer approves; a cancelled
release's signatures are not shown as valid when their evidence changed."""

from __future__ import annotations

import pytest

from bot.domain.errors import InvalidInput
from bot.domain.model import ReleaseState
from bot.services.container import Services
from bot.services.deps import Deps
from tests.services.conftest import CHANNEL, thread


async def signed(deps: Deps, role: str, user: str) -> tuple[Services, int]:
    """LUMINES 1.0.0 opened at ref abc, signed by USER as ROLE."""
    services = Services.build(deps)
    opened = await services.releases.open("LUMINES 1.0.0", "abc", "UREL", CHANNEL)
    await deps.tasks.drain()
    attestations = deps.settings.app.roles[role].attestations
    await services.signoff.sign(opened.release.id, role, user, attestations, None)
    return services, opened.release.id


async def test_a_signer_who_rejects_withdraws_their_signature(deps: Deps) -> None:
    services, release_id = await signed(deps, "security_lead", "USEC")
    view = await services.signoff.reject(release_id, "USEC", "pen test pending")
    assert view.release.state is ReleaseState.BLOCKED
    assert not [s for s in view.signatures if s.user_id == "USEC"]  # not signed and rejected
    assert view == await services.releases.view(release_id)
    said = (await thread(deps, release_id))[-2]
    assert said.startswith(":no_entry: <@USEC> rejected *LUMINES 1.0.0*:\n> pen test pending")
    assert said.endswith("Their signature as Security Lead is withdrawn.")


async def test_a_cancelled_release_keeps_stale_signatures_stale(deps: Deps) -> None:
    services, release_id = await signed(deps, "engineering_lead", "UENG")
    await services.releases.open("LUMINES 1.0.0", "def", "UREL", CHANNEL)  # a new ref
    await deps.tasks.drain()
    view = await services.releases.cancel(release_id, "UREL")
    assert [s.signature.user_id for s in view.stale] == ["UENG"]
    assert view.signatures == []  # not shown as a valid signature


async def test_a_ref_is_a_ref(deps: Deps) -> None:
    releases = Services.build(deps).releases
    for bad in ("abc<def>", "a b", "x" * 201):
        with pytest.raises(InvalidInput, match="A ref is a commit SHA"):
            await releases.open("LUMINES 1.0.0", bad, "UREL", CHANNEL)
    async with deps.db.read() as uow:
        assert await uow.releases.find() == []  # nothing opened
