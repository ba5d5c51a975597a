"""The fake's conversations, people and files: the state Slack keeps for a workspace."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from bot.fake_slack.model import (
    JSON,
    Channel,
    Edit,
    Ephemeral,
    Message,
    Response,
    SlackError,
    Team,
    UploadedFile,
    User,
)

RESPONSE_URL_USES = 5
RESPONSE_URL_TTL = 30 * 60.0


@dataclass
class ResponseTarget:
    """Where a response_url points: the person, channel and message it was issued for."""

    id: str
    channel: str | None
    user: str | None
    message_ts: str | None
    ephemeral: bool
    created: float
    uses: int = 0


@dataclass
class Counter:
    """Sequential ids per prefix: V0001, F0001, ..."""

    counts: dict[str, int] = field(default_factory=dict)

    def next(self, prefix: str) -> str:
        self.counts[prefix] = self.counts.get(prefix, 0) + 1
        return f"{prefix}{self.counts[prefix]:04d}"


class Workspace:
    """Channels with their messages and threads, ephemerals, users, groups and files."""

    def __init__(self, team: Team, ids: Counter) -> None:
        self.team = team
        self.ids = ids
        self.channels: dict[str, Channel] = {}
        self.users: dict[str, User] = {
            team.bot_user_id: User(team.bot_user_id, team.bot_name, team.bot_name, is_bot=True)
        }
        self.usergroups: dict[str, list[str]] = {}
        self.usergroup_handles: dict[str, str] = {}
        self.ephemerals: list[Ephemeral] = []
        self.files: dict[str, UploadedFile] = {}
        self.targets: dict[str, ResponseTarget] = {}
        self.responses: list[Response] = []
        self._last_us = 0

    def next_ts(self) -> str:
        """A message timestamp like Slack's, strictly increasing."""
        us = max(time.time_ns() // 1000, self._last_us + 1)
        self._last_us = us
        return f"{us // 1_000_000}.{us % 1_000_000:06d}"

    # --- people -------------------------------------------------------------------------

    def add_user(self, user_id: str, name: str, real_name: str = "", **more: object) -> User:
        user = User(user_id, name, real_name or name, **more)  # type: ignore[arg-type]
        self.users[user_id] = user
        return user

    def user(self, user_id: str) -> User:
        if user_id not in self.users:
            raise SlackError("user_not_found")
        return self.users[user_id]

    def add_usergroup(self, group_id: str, users: Iterable[str], handle: str = "") -> None:
        self.usergroups[group_id] = list(users)
        self.usergroup_handles[group_id] = handle or group_id.lower()

    # --- channels -----------------------------------------------------------------------

    def add_channel(self, channel_id: str, name: str, is_private: bool = False) -> Channel:
        channel = self.channels.get(channel_id) or Channel(channel_id, name, is_private)
        channel.name, channel.is_private = name, is_private
        self.channels[channel_id] = channel
        return channel

    def dm_channel(self, user_id: str) -> str:
        return "D" + user_id[1:]

    def channel(self, ref: str) -> Channel:
        """The channel by id, `#name`, or a user id (their DM with the bot); made on first use."""
        if not ref:
            raise SlackError("channel_not_found")
        name = ref.removeprefix("#")
        for channel in self.channels.values():
            if channel.id == ref or (ref.startswith("#") and channel.name == name):
                return channel
        if ref.startswith("#"):
            raise SlackError("channel_not_found")
        if ref[0] in "UW":
            dm = self.dm_channel(ref)
            return self.channels.setdefault(dm, Channel(dm, dm, True, im_user=ref))
        if ref[0] == "D":
            user = "U" + ref[1:]
            return self.channels.setdefault(ref, Channel(ref, ref, True, im_user=user))
        return self.channels.setdefault(ref, Channel(ref, ref.lower()))

    def channel_name(self, channel_id: str) -> str:
        known = self.channels.get(channel_id)
        return known.name if known else channel_id.lower()

    # --- messages -----------------------------------------------------------------------

    def post(
        self,
        channel: str,
        text: str = "",
        blocks: list[JSON] | None = None,
        *,
        user: str | None = None,
        thread_ts: str | None = None,
        **fields: object,
    ) -> Message:
        where = self.channel(channel)
        message = Message(
            channel=where.id,
            ts=self.next_ts(),
            text=text,
            blocks=with_ids(blocks or []),
            user=user or self.team.bot_user_id,
            bot_id=self.team.bot_id if user in (None, self.team.bot_user_id) else None,
            thread_ts=thread_ts,
            **fields,  # type: ignore[arg-type]
        )
        if thread_ts:
            parent = self._find(where, thread_ts)
            if parent is not None:
                parent.reply_count += 1
                parent.thread_ts = parent.ts
        where.messages.append(message)
        return message

    def message(self, channel: str, ts: str) -> Message:
        found = self._find(self.channel(channel), ts)
        if found is None:
            raise SlackError("message_not_found")
        return found

    def update(
        self,
        channel: str,
        ts: str,
        text: str | None = None,
        blocks: list[JSON] | None = None,
        metadata: JSON | None = None,
    ) -> Message:
        message = self.message(channel, ts)
        if message.user != self.team.bot_user_id:
            raise SlackError("cant_update_message")
        edited = self.next_ts()
        message.edits.append(Edit(message.text, message.blocks, message.metadata, edited))
        if text is not None:
            message.text = text
        if blocks is not None:
            message.blocks = with_ids(blocks)
        if metadata is not None:
            message.metadata = metadata
        message.edited_ts = edited
        return message

    def delete(self, channel: str, ts: str) -> None:
        message = self.message(channel, ts)
        self.channel(channel).messages.remove(message)

    def messages(self, channel: str, include_replies: bool = False) -> list[Message]:
        """Messages in posting order: top level (and broadcast replies) unless include_replies."""
        return [
            m
            for m in self.channel(channel).messages
            if include_replies or not m.is_reply or m.reply_broadcast
        ]

    def replies(self, channel: str, ts: str) -> list[Message]:
        return [m for m in self.channel(channel).messages if m.thread_ts == ts and m.ts != ts]

    def react(self, channel: str, ts: str, name: str, user: str) -> None:
        users = self.message(channel, ts).reactions.setdefault(name, [])
        if user in users:
            raise SlackError("already_reacted")
        users.append(user)

    def post_ephemeral(
        self,
        channel: str,
        user: str,
        text: str = "",
        blocks: list[JSON] | None = None,
        thread_ts: str | None = None,
        via: str = "api",
    ) -> Ephemeral:
        where = self.channel(channel)
        eph = Ephemeral(
            where.id, user, self.next_ts(), text, with_ids(blocks or []), thread_ts, via
        )
        self.ephemerals.append(eph)
        return eph

    def _find(self, channel: Channel, ts: str) -> Message | None:
        return next((m for m in channel.messages if m.ts == ts), None)

    # --- files --------------------------------------------------------------------------

    def new_file(self, filename: str, length: int, **fields: object) -> UploadedFile:
        upload = UploadedFile(self.ids.next("F"), filename, length, **fields)  # type: ignore[arg-type]
        self.files[upload.id] = upload
        return upload

    def share_files(
        self,
        files: list[JSON],
        channel: str | None,
        initial_comment: str | None,
        thread_ts: str | None,
    ) -> list[UploadedFile]:
        done: list[UploadedFile] = []
        for item in files:
            upload = self.files.get(str(item.get("id")) if isinstance(item, dict) else "")
            # Not uploaded yet, or already completed ("this method can only be called once").
            if upload is None or upload.data is None or upload.completed:
                raise SlackError("file_not_found")
            upload.title = str(item.get("title") or upload.filename)
            upload.channel, upload.thread_ts = channel, thread_ts
            upload.initial_comment, upload.completed = initial_comment, True
            done.append(upload)
        if channel:
            shared = [f.as_slack() for f in done]
            self.post(channel, initial_comment or "", thread_ts=thread_ts, files=shared)
        return done

    # --- response_url -------------------------------------------------------------------

    def new_target(
        self,
        channel: str | None,
        user: str | None,
        message_ts: str | None,
        ephemeral: bool,
        now: float,
    ) -> ResponseTarget:
        target = ResponseTarget(self.ids.next("R"), channel, user, message_ts, ephemeral, now)
        self.targets[target.id] = target
        return target

    def respond(
        self,
        target_id: str,
        url: str,
        body: JSON,
        now: float,
        check: Callable[[JSON], None] | None = None,
    ) -> Response:
        """Apply one POST to a response_url the way Slack does. CHECK raises the SlackError
        Slack refuses BODY with, if any: then nothing is recorded and the use is not spent."""
        target = self.targets.get(target_id)
        if target is None:
            raise SlackError("invalid_url")
        if target.uses >= RESPONSE_URL_USES:
            raise SlackError("used_url")
        if now - target.created > RESPONSE_URL_TTL:
            raise SlackError("expired_url")
        if check is not None:
            check(body)
        target.uses += 1
        response = Response(url, body, now, target.channel, target.user, target.message_ts)
        self.responses.append(response)
        self._apply_response(target, response)
        return response

    def _apply_response(self, target: ResponseTarget, r: Response) -> None:
        original = target.message_ts if target.channel else None
        if original and (r.delete_original or r.replace_original):
            if target.ephemeral:
                eph = self._ephemeral(target.channel or "", original, target.user)
                if eph is not None:
                    if r.delete_original:
                        eph.deleted = True
                    else:
                        eph.edits.append(Edit(eph.text, eph.blocks, None, self.next_ts()))
                        eph.text, eph.blocks = r.text, with_ids(r.blocks)
                return
            if r.delete_original:
                self.delete(target.channel or "", original)
            else:
                self.update(target.channel or "", original, r.text, r.blocks)
            return
        if not target.channel:
            return
        thread_ts = r.body.get("thread_ts")
        if r.response_type == "in_channel":
            self.post(target.channel, r.text, r.blocks, thread_ts=thread_ts)
        elif target.user:
            self.post_ephemeral(
                target.channel, target.user, r.text, r.blocks, thread_ts, "response_url"
            )

    def _ephemeral(self, channel: str, ts: str, user: str | None) -> Ephemeral | None:
        return next(
            (
                e
                for e in self.ephemerals
                if e.channel == channel and e.message_ts == ts and user in (None, e.user)
            ),
            None,
        )


def with_ids(blocks: list[JSON]) -> list[JSON]:
    """Copies of the blocks with the block_id / action_id Slack fills in when missing."""
    out: list[JSON] = []
    for i, block in enumerate(blocks):
        if not isinstance(block, dict):
            out.append(block)
            continue
        block = dict(block)
        if "block_id" not in block:
            block["block_id"] = _short_id(i, block)
        for key in ("elements", "accessory", "element"):
            value = block.get(key)
            if block.get("type") in {"actions", "section", "input"} and value is not None:
                block[key] = _with_action_ids(value, block["block_id"])
        out.append(block)
    return out


def _with_action_ids(value: object, block_id: str) -> object:
    if isinstance(value, list):
        return [_with_action_ids(v, f"{block_id}.{j}") for j, v in enumerate(value)]
    kind = value.get("type") if isinstance(value, dict) else None
    if isinstance(value, dict) and kind not in (None, "image") and "action_id" not in value:
        return {**value, "action_id": _short_id(block_id, value)}
    return value


def _short_id(salt: object, node: JSON) -> str:
    raw = json.dumps([salt, node], sort_keys=True, default=str).encode()
    return hashlib.sha256(raw).hexdigest()[:5]
