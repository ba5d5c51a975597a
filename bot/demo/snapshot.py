"""What one person sees of the demo workspace, as JSON for the page: the release channels
(each one product's) with their threads, their own ephemeral messages, the modal they have
open, who is who in which product, and which parts of the target are broken. Built on the
fake's loop from its state; pure."""

from __future__ import annotations

from typing import Any

from bot.demo.people import CHANNELS, PEOPLE
from bot.domain.products import Catalog
from bot.fake_slack import Ephemeral, FakeSlack, Message, View

JSON = dict[str, Any]


def _message(message: Message) -> JSON:
    return {
        "ts": message.ts,
        "channel": message.channel,
        "user": message.user,
        "bot": message.bot_id is not None,
        "text": message.text,
        "blocks": message.blocks,
        "thread_ts": message.thread_ts if message.is_reply else None,
        "reply_count": message.reply_count,
        "edited": message.edited_ts is not None,
        "files": [_file(f) for f in message.files],
    }


def _file(shared: JSON) -> JSON:
    """A file shared with the message; the page reads it at /demo/files/<id>."""
    return {
        "id": shared.get("id"),
        "name": shared.get("name"),
        "title": shared.get("title") or shared.get("name"),
        "size": shared.get("size"),
    }


def _ephemeral(ephemeral: Ephemeral) -> JSON:
    return {
        "ts": ephemeral.message_ts,
        "channel": ephemeral.channel,
        "text": ephemeral.text,
        "blocks": ephemeral.blocks,
        "thread_ts": ephemeral.thread_ts,
    }


def _view(view: View | None) -> JSON | None:
    if view is None:
        return None
    spec = view.spec
    return {
        "id": view.id,
        "hash": view.hash,
        "callback_id": view.callback_id,
        "title": (spec.get("title") or {}).get("text", ""),
        "submit": (spec.get("submit") or {}).get("text"),
        "close": (spec.get("close") or {}).get("text", "Cancel"),
        "blocks": view.blocks,
        "errors": view.errors,
    }


def channels(catalog: Catalog) -> list[JSON]:
    """The demo's channels, each with what the product that claims it is."""
    out: list[JSON] = []
    for where in CHANNELS:
        app = catalog.config(where.product)
        out.append(
            {
                "id": where.id,
                "name": where.name,
                "product": where.product,
                "title": app.product,
                "example": where.example,
                "sections": len(app.sections),
                "items": len(app.items),
            }
        )
    return out


def roles(catalog: Catalog) -> dict[str, dict[str, str]]:
    """Each member's role title in each product, as the config says (user -> product ->)."""
    held: dict[str, dict[str, str]] = {}
    for pid, app in catalog.products.items():
        for role in app.roles.values():
            for member in role.members:
                held.setdefault(member, {})[pid] = role.title
    return held


def label(held: dict[str, str]) -> str:
    """What the switcher says someone is: their role (the page groups people by the
    products they hold it in)."""
    return " / ".join(dict.fromkeys(held.values())) or "no role"


def users(fake: FakeSlack, catalog: Catalog) -> list[JSON]:
    """Everyone the page may name: the demo people first (with their role in each product),
    then anyone else the fake knows."""
    out: list[JSON] = []
    held = roles(catalog)
    for p in PEOPLE:
        mine = held.get(p.id, {})
        out.append(
            {
                "id": p.id,
                "name": p.name,
                "real_name": p.real_name,
                "title": label(mine),
                "roles": mine,
            }
        )
    known = {p.id for p in PEOPLE}
    for user in fake.workspace.users.values():
        if user.id not in known:
            title = "app" if user.is_bot else ""
            out.append(
                {
                    "id": user.id,
                    "name": user.name,
                    "real_name": user.real_name,
                    "title": title,
                    "roles": {},
                }
            )
    return out


def snapshot(
    fake: FakeSlack, user: str, broken: set[str], parts: list[JSON], catalog: Catalog
) -> JSON:
    """The page's whole state for `user`, as of now: every demo channel's messages (each
    says its channel), in posting order per channel."""
    ids = [c.id for c in CHANNELS]
    return {
        "channels": channels(catalog),
        "me": user,
        "users": users(fake, catalog),
        "messages": [_message(m) for c in ids for m in fake.messages(c, include_replies=True)],
        "ephemerals": [_ephemeral(e) for c in ids for e in fake.ephemerals(user, c)],
        "view": _view(fake.top_view(user)),
        "home": _view(fake.home(user)),
        "target": [{**part, "broken": part["id"] in broken} for part in parts],
    }
