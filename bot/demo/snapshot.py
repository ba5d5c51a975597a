"""What one person sees of the demo workspace, as JSON for the page: the release channel
with its threads, their own ephemeral messages, the modal they have open, who is who, and
which parts of the target are broken. Built on the fake's loop from its state; pure."""

from __future__ import annotations

from typing import Any

from bot.demo.people import CHANNEL, CHANNEL_NAME, PEOPLE
from bot.fake_slack import Ephemeral, FakeSlack, Message, View

JSON = dict[str, Any]


def _message(message: Message) -> JSON:
    return {
        "ts": message.ts,
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


def users(fake: FakeSlack) -> list[JSON]:
    """Everyone the page may name: the demo people first, then anyone else the fake knows."""
    out: list[JSON] = []
    for p in PEOPLE:
        out.append({"id": p.id, "name": p.name, "real_name": p.real_name, "title": p.title})
    known = {p.id for p in PEOPLE}
    for user in fake.workspace.users.values():
        if user.id not in known:
            title = "app" if user.is_bot else ""
            out.append(
                {"id": user.id, "name": user.name, "real_name": user.real_name, "title": title}
            )
    return out


def snapshot(fake: FakeSlack, user: str, broken: set[str], parts: list[JSON]) -> JSON:
    """The page's whole state for `user`, as of now."""
    messages = fake.messages(CHANNEL, include_replies=True)
    return {
        "channel": {"id": CHANNEL, "name": CHANNEL_NAME},
        "me": user,
        "users": users(fake),
        "messages": [_message(m) for m in messages],
        "ephemerals": [_ephemeral(e) for e in fake.ephemerals(user, CHANNEL)],
        "view": _view(fake.top_view(user)),
        "home": _view(fake.home(user)),
        "target": [{**part, "broken": part["id"] in broken} for part in parts],
    }
