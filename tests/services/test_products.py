"""Services of a bot with several products: releases from before products go to the product
that claims their channel; names are unique per product; roles are a product's own."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from bot.config import load_settings
from bot.db import Database
from bot.db.migrate import upgrade
from bot.domain.errors import Ambiguous, InvalidInput, NotAuthorized
from bot.services.container import Services
from bot.services.deps import Deps
from bot.services.tasks import TaskRunner
from tests.services.conftest import T0, FixedClock, Groups

BASE = """
roles:
  lead: {title: Lead, members: [ULEAD]}
  boss: {title: Boss, members: [UBOSS], final: true}
sections:
  - id: one
    title: One
    items: [{id: a, title: A}]
"""


@pytest.fixture
async def services(tmp_path: Path) -> AsyncIterator[Services]:
    root = tmp_path / "products"
    root.mkdir()
    (root / "_base.yaml").write_text(BASE)
    (root / "alpha.yaml").write_text("extends: _base.yaml\nproduct: Alpha\nchannel: CA\n")
    (root / "beta.yaml").write_text(
        "extends: _base.yaml\nproduct: Beta\nchannels: [CB]\n"
        "roles: {lead: {title: Lead, members: [UBETA]}}\n"
    )
    url = f"sqlite+aiosqlite:///{tmp_path / 'r.db'}"
    settings = load_settings(root, env={"DATABASE_URL": url})
    database = Database(url)
    await upgrade(database)
    async with httpx.AsyncClient() as http:
        deps = Deps(settings, database, FixedClock(T0), Groups({}), http, TaskRunner())
        yield Services.build(deps)
    await database.close()


async def test_releases_from_before_products_go_to_the_product_of_their_channel(
    services: Services,
) -> None:
    db = services.deps.db
    async with db.write() as uow:  # as an upgraded database holds them: product ''
        for name, channel in (("OLD A", "CA"), ("OLD B", "CB"), ("OLD X", "CX")):
            await uow.releases.add(name, channel, None, "UREL", T0, "v0")
    assert await services.releases.adopt() == 2
    async with db.read() as uow:
        assert await uow.releases.products() == {"alpha": 1, "beta": 1, "": 1}
    assert (await services.releases.resolve("OLD B", None)).product == "beta"
    assert (await services.releases.adopt()) == 0  # once


async def test_a_name_is_unique_per_product_and_roles_are_the_products_own(
    services: Services,
) -> None:
    releases, signoff = services.releases, services.signoff
    alpha = await releases.open("R 1.0", None, "UREL", "CA")
    beta = await releases.open("R 1.0", None, "UREL", "CB")
    assert (alpha.release.product, beta.release.product) == ("alpha", "beta")
    assert alpha.created and beta.created and alpha.release.id != beta.release.id
    again = await releases.open("R 1.0", None, "UREL", "CB")
    assert not again.created and again.release.id == beta.release.id
    with pytest.raises(Ambiguous) as asked:
        await releases.resolve("R 1.0", "CX")
    assert asked.value.products == ["alpha", "beta"]
    assert (await releases.resolve("R 1.0", "CA")).id == alpha.release.id
    assert (await releases.resolve("R 1.0", "CX", "beta")).id == beta.release.id
    with pytest.raises(InvalidInput, match="belongs to no product"):
        await releases.open("R 2.0", None, "UREL", "CX")
    with pytest.raises(NotAuthorized, match="Lead on the Beta checklist"):
        await signoff.prepare(beta.release.id, "lead", "ULEAD")
    intent = await signoff.prepare(alpha.release.id, "lead", "ULEAD")
    assert intent.role.title == "Lead"
    assert (await signoff.prepare(beta.release.id, "lead", "UBETA")).role_id == "lead"
    listed = await releases.listing(products=["beta"])
    assert [v.release.id for v in listed.views] == [beta.release.id]
    every = await releases.listing()
    assert every.grouped and [v.release.product for v in every.views] == ["alpha", "beta"]
