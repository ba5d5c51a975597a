"""What the fake Slack remembers: calls, messages, views, files, people."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

JSON = dict[str, Any]


class SlackError(Exception):
    """A Web API refusal: answered as `{"ok": false, "error": ...}`. HTTP_STATUS, when
    given, is the status Slack answers it with (a response_url refuses a body with 400)."""

    def __init__(self, error: str, *, http_status: int | None = None, **extra: Any) -> None:
        super().__init__(error)
        self.error = error
        self.http_status = http_status
        self.extra = extra

    def body(self) -> JSON:
        return {"ok": False, "error": self.error, **self.extra}


@dataclass(frozen=True)
class Team:
    """The one workspace and the one app installed in it."""

    id: str = "T0001"
    domain: str = "readiness-test"
    name: str = "Readiness Test"
    app_id: str = "A0001"
    bot_user_id: str = "UBOT"
    bot_id: str = "BBOT"
    bot_name: str = "readiness"


@dataclass(frozen=True)
class Call:
    """One request the app made to the fake, with what it was answered."""

    method: str
    args: JSON
    headers: dict[str, str]
    at: float
    status: int = 200
    response: JSON | None = None
    faulted: bool = False
    delayed: float = 0.0

    @property
    def ok(self) -> bool:
        return self.status == 200 and bool(self.response and self.response.get("ok"))

    @property
    def error(self) -> str | None:
        if self.response and not self.response.get("ok", True):
            return str(self.response.get("error"))
        return None if self.status == 200 else f"http_{self.status}"

    def describe(self) -> str:
        """One line: method, outcome and the arguments that identify it."""
        a = self.args
        bits = [self.method, "ok" if self.ok else f"error={self.error}"]
        bits += [
            f"{k}={a[k]}" for k in ("channel", "ts", "user", "trigger_id", "view_id") if a.get(k)
        ]
        view = a.get("view")
        if isinstance(view, dict) and view.get("callback_id"):
            bits.append(f"callback_id={view['callback_id']}")
        if a.get("text"):
            bits.append(f"text={str(a['text'])[:60]!r}")
        if self.faulted:
            bits.append("(faulted)")
        return " ".join(bits)


@dataclass(frozen=True)
class Edit:
    """A message's content before one chat.update (or replace_original)."""

    text: str
    blocks: list[JSON]
    metadata: JSON | None
    replaced_at: str


@dataclass
class Message:
    """A message in a channel or thread, as Slack stores it."""

    channel: str
    ts: str
    text: str = ""
    blocks: list[JSON] = field(default_factory=list)
    user: str = "UBOT"
    bot_id: str | None = "BBOT"
    thread_ts: str | None = None
    metadata: JSON | None = None
    attachments: list[JSON] = field(default_factory=list)
    files: list[JSON] = field(default_factory=list)
    reply_broadcast: bool = False
    reply_count: int = 0
    reactions: dict[str, list[str]] = field(default_factory=dict)
    edits: list[Edit] = field(default_factory=list)
    edited_ts: str | None = None
    extra: JSON = field(default_factory=dict)

    @property
    def is_reply(self) -> bool:
        return self.thread_ts is not None and self.thread_ts != self.ts

    def all_text(self) -> str:
        """The text and every text inside the blocks, for assertions."""
        return "\n".join([self.text, *block_texts(self.blocks)])

    def action_ids(self) -> list[str]:
        return action_ids(self.blocks)

    def as_slack(self) -> JSON:
        out: JSON = {"type": "message", "ts": self.ts, "user": self.user, "text": self.text}
        for key in ("bot_id", "blocks", "attachments", "files", "thread_ts", "reply_count"):
            value = getattr(self, key)
            if value:  # Slack leaves out what a message doesn't have
                out[key] = value
        if self.metadata is not None:
            out["metadata"] = self.metadata
        if self.edited_ts:
            out["edited"] = {"user": self.user, "ts": self.edited_ts}
        if self.reactions:
            out["reactions"] = [
                {"name": n, "users": u, "count": len(u)} for n, u in self.reactions.items()
            ]
        return out


@dataclass
class Ephemeral:
    """A message only `user` sees in `channel` (chat.postEphemeral or a response_url)."""

    channel: str
    user: str
    message_ts: str
    text: str = ""
    blocks: list[JSON] = field(default_factory=list)
    thread_ts: str | None = None
    via: str = "api"
    deleted: bool = False
    edits: list[Edit] = field(default_factory=list)

    @property
    def ts(self) -> str:
        return self.message_ts

    def all_text(self) -> str:
        return "\n".join([self.text, *block_texts(self.blocks)])

    def action_ids(self) -> list[str]:
        return action_ids(self.blocks)

    def as_slack(self) -> JSON:
        out: JSON = {"type": "message", "ts": self.message_ts, "text": self.text}
        if self.blocks:
            out["blocks"] = self.blocks
        return out


@dataclass
class View:
    """A modal or home tab the app opened, with Slack's own fields around it."""

    id: str
    type: str
    user: str | None
    spec: JSON
    hash: str
    team: Team
    external_id: str = ""
    root_view_id: str | None = None
    previous_view_id: str | None = None
    state: JSON = field(default_factory=lambda: {"values": {}})
    closed: bool = False
    errors: dict[str, str] = field(default_factory=dict)
    history: list[JSON] = field(default_factory=list)

    @property
    def callback_id(self) -> str:
        return str(self.spec.get("callback_id", ""))

    @property
    def private_metadata(self) -> str:
        return str(self.spec.get("private_metadata", ""))

    @property
    def blocks(self) -> list[JSON]:
        return list(self.spec.get("blocks", []))

    @property
    def title(self) -> str:
        return str((self.spec.get("title") or {}).get("text", ""))

    def all_text(self) -> str:
        return "\n".join([self.title, *block_texts(self.blocks)])

    def action_ids(self) -> list[str]:
        return action_ids(self.blocks)

    def as_slack(self) -> JSON:
        spec = self.spec
        return {
            "id": self.id,
            "team_id": self.team.id,
            "type": self.type,
            "blocks": self.blocks,
            "private_metadata": self.private_metadata,
            "callback_id": self.callback_id,
            "state": self.state,
            "hash": self.hash,
            "title": spec.get("title"),
            "clear_on_close": bool(spec.get("clear_on_close", False)),
            "notify_on_close": bool(spec.get("notify_on_close", False)),
            "close": spec.get("close"),
            "submit": spec.get("submit"),
            "previous_view_id": self.previous_view_id,
            "root_view_id": self.root_view_id,
            "app_id": self.team.app_id,
            "external_id": self.external_id,
            "app_installed_team_id": self.team.id,
            "bot_id": self.team.bot_id,
        }


@dataclass(frozen=True)
class Response:
    """One POST the app made to a response_url."""

    url: str
    body: JSON
    at: float
    channel: str | None
    user: str | None
    message_ts: str | None

    @property
    def text(self) -> str:
        return str(self.body.get("text", ""))

    @property
    def blocks(self) -> list[JSON]:
        return list(self.body.get("blocks") or [])

    @property
    def response_type(self) -> str:
        return str(self.body.get("response_type") or "ephemeral")

    @property
    def replace_original(self) -> bool:
        return truthy(self.body.get("replace_original"))

    @property
    def delete_original(self) -> bool:
        return truthy(self.body.get("delete_original"))


@dataclass
class UploadedFile:
    """A file sent through files.getUploadURLExternal, the upload URL and completion."""

    id: str
    filename: str
    length: int
    alt_txt: str | None = None
    snippet_type: str | None = None
    data: bytes | None = None
    title: str | None = None
    channel: str | None = None
    thread_ts: str | None = None
    initial_comment: str | None = None
    completed: bool = False

    def as_slack(self) -> JSON:
        return {
            "id": self.id,
            "name": self.filename,
            "title": self.title or self.filename,
            "size": len(self.data or b""),
            "mimetype": "application/octet-stream",
            "channels": [self.channel] if self.channel else [],
        }


@dataclass
class User:
    """A person (or bot) in the workspace."""

    id: str
    name: str
    real_name: str = ""
    email: str | None = None
    tz: str = "UTC"
    is_bot: bool = False
    deleted: bool = False

    def as_slack(self, team_id: str) -> JSON:
        profile: JSON = {"real_name": self.real_name, "display_name": self.name}
        if self.email:
            profile["email"] = self.email
        return {
            "id": self.id,
            "team_id": team_id,
            "name": self.name,
            "real_name": self.real_name,
            "deleted": self.deleted,
            "is_bot": self.is_bot,
            "tz": self.tz,
            "profile": profile,
        }


@dataclass
class Channel:
    """A conversation: public channel or the bot's DM with one person."""

    id: str
    name: str
    is_private: bool = False
    im_user: str | None = None
    messages: list[Message] = field(default_factory=list)

    def as_slack(self) -> JSON:
        if self.im_user:
            return {"id": self.id, "is_im": True, "user": self.im_user}
        return {
            "id": self.id,
            "name": self.name,
            "is_channel": not self.is_private,
            "is_private": self.is_private,
            "is_member": True,
        }


def truthy(value: Any) -> bool:
    """Slack's form-encoded booleans: "true", "1", true."""
    if isinstance(value, str):
        return value.strip().lower() in {"1", "true", "yes"}
    return bool(value)


def block_texts(blocks: list[JSON]) -> list[str]:
    """Every `text` string found anywhere inside the blocks, in order."""
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            text = node.get("text")
            if isinstance(text, str):
                found.append(text)
            for key, value in node.items():
                if key != "text" or not isinstance(value, str):
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(blocks)
    return found


def action_ids(blocks: list[JSON]) -> list[str]:
    """The action_id of every interactive element, in order."""
    return [str(e["action_id"]) for _, e in interactive_elements(blocks) if "action_id" in e]


def interactive_elements(blocks: list[JSON]) -> list[tuple[JSON, JSON]]:
    """(block, element) for each element a person can act on."""
    out: list[tuple[JSON, JSON]] = []
    for block in blocks:
        kind = block.get("type")
        if kind == "actions":
            out.extend((block, e) for e in block.get("elements", []))
        elif kind == "section" and isinstance(block.get("accessory"), dict):
            out.append((block, block["accessory"]))
        elif kind == "input" and isinstance(block.get("element"), dict):
            out.append((block, block["element"]))
    return out
