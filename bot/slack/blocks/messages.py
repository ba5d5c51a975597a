"""Replies to /readiness: help, list, status."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.domain.model import PRE_DEPLOY, ReleaseState
from bot.domain.products import Catalog
from bot.domain.view import ReleaseView
from bot.services.releases import LISTED, Listing
from bot.slack import ids
from bot.slack.blocks.card import card
from bot.slack.blocks.common import STATE_LABEL, Block, button, chunk_lines, context, section
from bot.slack.blocks.text import escape

STATES = [state.value for state in ReleaseState]
HELP = """*Readiness* keeps this channel's production-readiness sign-off.
`/readiness new NAME [ref=SHA] [window=START/END]` open a release, e.g. `new LUMINES 1.0.0`
`/readiness status [NAME]` where a release stands
`/readiness list [STATE]` the open releases (or one state's), page by page
`/readiness check [NAME] [SECTION]` run the automated checks again
`/readiness deployed [NAME]` mark an approved release deployed (starts monitoring)
`/readiness export [NAME]` upload the filled-in sign-off document to the card's thread
`/readiness cancel NAME` cancel a release
`/readiness freezes` the change freezes now and next (no deploys during one)
`/readiness waive [NAME] ITEM_ID for=2d REASON…` ask to count a failing item as passing for a while
`/readiness help` this text
Without NAME, the newest open release of this channel is meant."""


def help_blocks(note: str | None = None, catalog: Catalog | None = None) -> list[Block]:
    """The help; with several products, how to name one, and which there are."""
    blocks = [section(HELP)]
    if note:
        blocks.insert(0, section(note))
    if catalog is not None and len(catalog) > 1:
        products = ", ".join(
            f"`{pid}` ({escape(app.product)})" for pid, app in catalog.products.items()
        )
        blocks.append(
            section(
                "This bot serves several products; a product's channel means that product. "
                "Elsewhere name one: `/readiness new PRODUCT_ID NAME`, or `product=ID` on "
                f"any command. `/readiness list all` lists every product's. Products: {products}."
            )
        )
    return blocks


def product_headings(views: Sequence[ReleaseView], grouped: bool) -> list[str | None]:
    """For each of VIEWS (each product's together), the product title to show above it
    when GROUPED and it is its product's first, else None."""
    headings: list[str | None] = []
    previous = None
    for view in views:
        first = grouped and view.release.product != previous
        headings.append(f"*{escape(view.product)}*" if first else None)
        previous = view.release.product
    return headings


def release_line(view: ReleaseView) -> str:
    """A release in a list: its name, state, readiness, signatures and channel."""
    release = view.release
    signed = sum(1 for p in view.roles if p.complete)
    return (
        f"• *{escape(release.name)}* · {STATE_LABEL[release.state]} · "
        f"{view.readiness.percent}% · {signed}/{len(view.roles)} roles signed · "
        f"<#{release.channel}>"
    )


def _listed(states: frozenset[ReleaseState]) -> str:
    if states == PRE_DEPLOY:
        return "open"
    return " or ".join(sorted(s.value for s in states))


def list_text(listing: Listing) -> str:
    """The reply's text: which releases, how many."""
    return f"{_listed(listing.states).capitalize()} releases: {listing.total}"


def list_blocks(listing: Listing) -> list[Block]:
    """A page of releases, with the buttons to the others: every release can be reached."""
    what = _listed(listing.states)
    if not listing.total:
        return [section(f"No release is {what}. Open one with `/readiness new NAME`.")]
    title = f"*{what.capitalize()} releases{_of(listing)}* · {listing.total} in all"
    if listing.pages > 1:
        first = (listing.page - 1) * LISTED + 1
        last = first + len(listing.views) - 1
        title += f" · {first}–{last}, page {listing.page} of {listing.pages}"
    lines: list[str] = []
    for view, heading in zip(
        listing.views, product_headings(listing.views, listing.grouped), strict=True
    ):
        lines += [heading, release_line(view)] if heading else [release_line(view)]
    blocks = [section(title), *[section(text) for text in chunk_lines(lines)]]
    state = None if listing.states == PRE_DEPLOY else next(iter(listing.states)).value
    scope = "*" if listing.products is None else ",".join(listing.products)
    pages = []
    if listing.page > 1:
        pages.append(_page("‹ Newer", ids.LIST_NEWER, listing.page - 1, state, scope))
    if listing.page < listing.pages:
        pages.append(_page("Older ›", ids.LIST_OLDER, listing.page + 1, state, scope))
    if pages:
        blocks.append({"type": "actions", "elements": pages})
    hint = f"`/readiness list STATE` lists one state: {', '.join(STATES)}."
    if listing.products is not None or listing.grouped:
        hint += " `/readiness list all` lists every product's."
    blocks.append(context(hint))
    return blocks


def _of(listing: Listing) -> str:
    """Whose releases, when the bot serves several products."""
    if listing.grouped:
        return " of every product"
    if listing.products is not None and listing.views:
        return f" of {escape(listing.views[0].product)}"
    return ""


def _page(label: str, action_id: str, page: int, state: str | None, scope: str) -> dict[str, Any]:
    ref = ids.Ref(r=0, page=page, op=state, p=scope if scope != "*" else None)
    return button(label, action_id, ref.encode())


def product_blocks(catalog: Catalog) -> list[Block]:
    """A plain `new` where no product claims the channel: the products to choose from."""
    lines = [
        f"• `{pid}`: {escape(app.product)}"
        + (f" · {', '.join(f'<#{c}>' for c in app.homes)}" if app.homes else "")
        for pid, app in catalog.products.items()
    ]
    return [
        section(
            "This channel belongs to no product. Name one: "
            "`/readiness new PRODUCT_ID NAME` (or `product=ID`), or open it in the product's "
            "channel."
        ),
        *[section(text) for text in chunk_lines(lines)],
    ]


def status_blocks(view: ReleaseView, private: bool = True) -> list[Block]:
    """The card without its buttons: a private copy (a reply to `/readiness status`), or a
    public one (the answer to a mention, in its thread)."""
    blocks = card(view, with_actions=False)
    where = f"The release card is in <#{view.release.channel}>."
    blocks.append(context(f"A private copy. {where}" if private else where))
    return blocks


def question_blocks(question: str, act: str, keep: str, value: str) -> list[Block]:
    """A private question before an act that can't be undone in a click: the question, a
    red button that does it, and one that changes nothing."""
    return [
        section(question),
        {
            "type": "actions",
            "elements": [
                button(act, ids.CONFIRM, value, style="danger"),
                button(keep, ids.KEEP, value),
            ],
        },
    ]
