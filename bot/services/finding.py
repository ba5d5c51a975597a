"""Finding a release by name across products: in the one asked for, else the channel's,
else the one product that has it; or the newest open one of a channel."""

from __future__ import annotations

from bot.db import UnitOfWork
from bot.domain.errors import Ambiguous, NotFound
from bot.domain.model import PRE_DEPLOY, Release, ReleaseState
from bot.domain.products import Catalog
from bot.domain.text import Code, clean, joined


async def resolve(
    uow: UnitOfWork,
    catalog: Catalog,
    name: str | None,
    channel: str | None,
    product: str | None,
) -> Release:
    if product is not None and catalog.get(product) is None:
        raise NotFound(
            "There is no product ",
            Code(product),
            "; the products are ",
            joined(Code(p) for p in catalog.products),
            ".",
        )
    home = product or catalog.of_channel(channel)
    if name:
        return await _named(uow, catalog, clean(name), home, product is not None)
    # The newest still being signed, else the newest being watched after deployment: in
    # this channel first, then in its product, then in any.
    watched = (ReleaseState.DEPLOYED, ReleaseState.MONITORING)
    scopes: list[tuple[str | None, list[str] | None]] = []
    if channel:
        scopes.append((channel, [product] if product else None))
    if home:
        scopes.append((None, [home]))
    if product is None:
        scopes.append((None, list(catalog.products)))
    release = None
    for where, products in scopes:
        for states in (PRE_DEPLOY, watched):
            release = release or await uow.releases.newest(states, where, products)
    if release is None:
        raise NotFound("No release is open. Open one with ", Code("/readiness new NAME"), ".")
    return release


async def _named(
    uow: UnitOfWork, catalog: Catalog, name: str, home: str | None, only_home: bool
) -> Release:
    """The release NAME of HOME (the product asked for, or the channel's), else of the one
    product that has it; several is a question of which."""
    if home is not None:
        release = await uow.releases.by_name(name, home)
        if release is not None or only_home:
            if release is None:
                raise NotFound(
                    f"{catalog.title(home)} has no release named “{name}”. ",
                    Code("/readiness list"),
                    " shows the open ones.",
                )
            return release
    named = await uow.releases.named(name)
    found = [r for r in named if r.product in catalog.products]
    if named and not found:  # its product was taken out of the config
        catalog.config(named[0].product)
    if not found:
        raise NotFound(
            f"There is no release named “{name}”. ",
            Code("/readiness list"),
            " shows the open ones.",
        )
    if len(found) > 1:
        products = sorted(r.product for r in found)
        raise Ambiguous(
            products,
            f"“{name}” is a release of several products ({', '.join(products)}); say which with ",
            Code("product=ID"),
            ".",
        )
    return found[0]
