"""Slack Web API methods, answered from the fake's workspace and surfaces."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from bot.fake_slack import blockkit, limits
from bot.fake_slack.model import JSON, SlackError, View, truthy
from bot.fake_slack.surfaces import Surfaces
from bot.fake_slack.workspace import Workspace

Handler = Callable[["Args"], JSON]


class Args:
    """A method's arguments, merged from query string, form and JSON body."""

    def __init__(self, raw: Mapping[str, Any]) -> None:
        self.raw = dict(raw)

    def text(self, name: str, missing: str | None = None) -> str | None:
        value = self.raw.get(name)
        if value in (None, "") and missing:
            raise SlackError(missing)
        return None if value is None else str(value)

    def need(self, name: str, missing: str = "invalid_arguments") -> str:
        value = self.text(name, missing)
        assert value is not None
        return value

    def flag(self, name: str) -> bool:
        return truthy(self.raw.get(name))

    def number(self, name: str, default: int) -> int:
        try:
            return int(self.raw.get(name, default))
        except (TypeError, ValueError):
            raise SlackError("invalid_arguments") from None

    def decoded(self, name: str, malformed: str = "invalid_arguments") -> Any:
        """A field that may come as JSON text (form bodies) or as JSON (JSON bodies)."""
        value = self.raw.get(name)
        if isinstance(value, str) and value:
            try:
                return json.loads(value)
            except json.JSONDecodeError:
                raise SlackError(malformed) from None
        return value if value != "" else None

    def blocks(self) -> list[JSON] | None:
        value = self.decoded("blocks", "invalid_blocks_format")
        if value is not None and not isinstance(value, list):
            raise SlackError("invalid_blocks_format")
        return value

    def view(self) -> JSON:
        value = self.decoded("view")
        if not isinstance(value, dict):
            raise SlackError("invalid_arguments")
        return value


class WebApi:
    """Dispatches `method` to its handler; checks the token first."""

    def __init__(
        self,
        ws: Workspace,
        surfaces: Surfaces,
        bot_token: str,
        base_url: Callable[[], str],
        strict: bool = True,
    ) -> None:
        self.ws, self.surfaces, self.bot_token = ws, surfaces, bot_token
        self.base_url, self.strict = base_url, strict
        self.app_token: str | None = None
        self.socket_url: str | None = None
        self.handlers: dict[str, Handler] = {
            "api.test": lambda a: {"ok": True, "args": a.raw},
            "auth.test": self.auth_test,
            "chat.postMessage": self.chat_post_message,
            "chat.update": self.chat_update,
            "chat.delete": self.chat_delete,
            "chat.postEphemeral": self.chat_post_ephemeral,
            "chat.getPermalink": self.chat_get_permalink,
            "conversations.history": self.conversations_history,
            "conversations.replies": self.conversations_replies,
            "conversations.info": self.conversations_info,
            "conversations.open": self.conversations_open,
            "reactions.add": self.reactions_add,
            "views.open": self.views_open,
            "views.push": self.views_push,
            "views.update": self.views_update,
            "views.publish": self.views_publish,
            "users.info": lambda a: self._user(self.ws.user(a.need("user", "user_not_found"))),
            "users.lookupByEmail": self.users_lookup_by_email,
            "usergroups.list": self.usergroups_list,
            "usergroups.users.list": self.usergroups_users_list,
            "files.getUploadURLExternal": self.files_get_upload_url,
            "files.completeUploadExternal": self.files_complete_upload,
        }

    def call(self, method: str, raw: Mapping[str, Any], token: str | None) -> JSON:
        """Answer one call as Slack would (HTTP 200 either way)."""
        try:
            if method == "apps.connections.open":
                return self.apps_connections_open(token)
            handler = self.handlers.get(method)
            if handler is None:
                raise SlackError("unknown_method")
            if token != self.bot_token:
                raise SlackError("invalid_auth")
            return handler(Args(raw))
        except SlackError as refused:
            return refused.body()

    # --- auth -----------------------------------------------------------------------------

    def auth_test(self, a: Args) -> JSON:
        t = self.ws.team
        return {
            "ok": True,
            "url": f"https://{t.domain}.slack.com/",
            "team": t.name,
            "user": t.bot_name,
            "team_id": t.id,
            "user_id": t.bot_user_id,
            "bot_id": t.bot_id,
            "is_enterprise_install": False,
        }

    def apps_connections_open(self, token: str | None) -> JSON:
        if self.socket_url and token == self.app_token:
            return {"ok": True, "url": self.socket_url}
        if token == self.bot_token or not self.socket_url:
            raise SlackError("not_allowed_token_type")
        raise SlackError("invalid_auth")

    # --- chat -----------------------------------------------------------------------------

    def chat_post_message(self, a: Args) -> JSON:
        channel = a.need("channel", "channel_not_found")
        text, blocks, attachments = a.text("text") or "", a.blocks(), a.decoded("attachments")
        if not text and not blocks and not attachments:
            raise SlackError("no_text")
        self._check_message(text, blocks)
        message = self.ws.post(
            channel,
            text,
            blocks,
            thread_ts=a.text("thread_ts") or None,
            metadata=a.decoded("metadata"),
            attachments=attachments or [],
            reply_broadcast=a.flag("reply_broadcast"),
            extra={k: a.raw[k] for k in ("mrkdwn", "unfurl_links", "username") if k in a.raw},
        )
        return {
            "ok": True,
            "channel": message.channel,
            "ts": message.ts,
            "message": message.as_slack(),
        }

    def chat_update(self, a: Args) -> JSON:
        channel, ts = a.need("channel", "channel_not_found"), a.need("ts", "message_not_found")
        text, blocks = a.text("text"), a.blocks()
        self._check_message(text or "", blocks)
        message = self.ws.update(channel, ts, text, blocks, a.decoded("metadata"))
        return {
            "ok": True,
            "channel": message.channel,
            "ts": message.ts,
            "text": message.text,
            "message": message.as_slack(),
        }

    def chat_delete(self, a: Args) -> JSON:
        channel, ts = a.need("channel", "channel_not_found"), a.need("ts", "message_not_found")
        self.ws.delete(channel, ts)
        return {"ok": True, "channel": self.ws.channel(channel).id, "ts": ts}

    def chat_post_ephemeral(self, a: Args) -> JSON:
        channel, user = a.need("channel", "channel_not_found"), a.need("user", "user_not_found")
        text, blocks = a.text("text") or "", a.blocks()
        if not text and not blocks and not a.decoded("attachments"):
            raise SlackError("no_text")
        self._check_message(text, blocks)
        eph = self.ws.post_ephemeral(channel, user, text, blocks, a.text("thread_ts") or None)
        return {"ok": True, "message_ts": eph.message_ts}

    def chat_get_permalink(self, a: Args) -> JSON:
        channel, ts = (
            a.need("channel", "channel_not_found"),
            a.need("message_ts", "message_not_found"),
        )
        message = self.ws.message(channel, ts)
        link = f"{self.base_url()}archives/{message.channel}/p{ts.replace('.', '')}"
        return {"ok": True, "channel": message.channel, "permalink": link}

    def _check_message(self, text: str, blocks: list[JSON] | None) -> None:
        limits.check_message(text, blocks, self.strict)

    # --- conversations --------------------------------------------------------------------

    def conversations_history(self, a: Args) -> JSON:
        found = self.ws.messages(a.need("channel", "channel_not_found"))
        newest_first = [m.as_slack() for m in reversed(found)][: a.number("limit", 100)]
        return {"ok": True, "messages": newest_first, "has_more": False, **_no_cursor()}

    def conversations_replies(self, a: Args) -> JSON:
        channel, ts = a.need("channel", "channel_not_found"), a.need("ts", "thread_not_found")
        try:
            parent = self.ws.message(channel, ts)
        except SlackError:
            raise SlackError("thread_not_found") from None
        thread = [parent, *self.ws.replies(channel, ts)]
        return {
            "ok": True,
            "messages": [m.as_slack() for m in thread],
            "has_more": False,
            **_no_cursor(),
        }

    def conversations_info(self, a: Args) -> JSON:
        return {
            "ok": True,
            "channel": self.ws.channel(a.need("channel", "channel_not_found")).as_slack(),
        }

    def conversations_open(self, a: Args) -> JSON:
        users = [u for u in (a.text("users") or "").split(",") if u]
        if len(users) != 1:
            raise (
                SlackError("invalid_arguments") if users else SlackError("users_list_not_supplied")
            )
        return {"ok": True, "channel": {"id": self.ws.channel(users[0]).id}}

    def reactions_add(self, a: Args) -> JSON:
        channel, ts = (
            a.need("channel", "channel_not_found"),
            a.need("timestamp", "message_not_found"),
        )
        self.ws.react(channel, ts, a.need("name", "invalid_name"), self.ws.team.bot_user_id)
        return {"ok": True}

    # --- views ----------------------------------------------------------------------------

    def views_open(self, a: Args) -> JSON:
        trigger_id, spec = a.need("trigger_id", "invalid_trigger_id"), self._view(a)
        return self._view_ok(self.surfaces.open(trigger_id, spec))

    def views_push(self, a: Args) -> JSON:
        trigger_id, spec = a.need("trigger_id", "invalid_trigger_id"), self._view(a)
        return self._view_ok(self.surfaces.push(trigger_id, spec))

    def views_update(self, a: Args) -> JSON:
        spec = self._view(a)
        view = self.surfaces.update(
            spec, a.text("view_id") or None, a.text("external_id") or None, a.text("hash") or None
        )
        return self._view_ok(view)

    def views_publish(self, a: Args) -> JSON:
        user, spec = a.need("user_id"), self._view(a)
        return self._view_ok(self.surfaces.publish(user, spec, a.text("hash") or None))

    def _view(self, a: Args) -> JSON:
        spec = a.view()
        if self.strict:
            problems = blockkit.view_problems(spec)
            if problems:
                messages = [f"[ERROR] {p}" for p in problems]
                raise SlackError("invalid_arguments", response_metadata={"messages": messages})
        return spec

    def _view_ok(self, view: View) -> JSON:
        return {"ok": True, "view": view.as_slack()}

    # --- people ---------------------------------------------------------------------------

    def _user(self, user: Any) -> JSON:
        return {"ok": True, "user": user.as_slack(self.ws.team.id)}

    def users_lookup_by_email(self, a: Args) -> JSON:
        email = a.need("email", "users_not_found")
        found = next((u for u in self.ws.users.values() if u.email == email), None)
        if found is None:
            raise SlackError("users_not_found")
        return self._user(found)

    def usergroups_list(self, a: Args) -> JSON:
        groups = [
            {
                "id": gid,
                "team_id": self.ws.team.id,
                "handle": self.ws.usergroup_handles[gid],
                "name": self.ws.usergroup_handles[gid],
                **({"users": users} if a.flag("include_users") else {}),
                "user_count": len(users),
            }
            for gid, users in self.ws.usergroups.items()
        ]
        return {"ok": True, "usergroups": groups}

    def usergroups_users_list(self, a: Args) -> JSON:
        group = a.need("usergroup", "no_such_subteam")
        if group not in self.ws.usergroups:
            raise SlackError("no_such_subteam")
        return {"ok": True, "users": list(self.ws.usergroups[group])}

    # --- files ----------------------------------------------------------------------------

    def files_get_upload_url(self, a: Args) -> JSON:
        filename, length = a.need("filename"), a.number("length", -1)
        if length < 0:
            raise SlackError("invalid_arguments")
        if length == 0:  # Slack: "typically only occurs when the length provided is 0"
            raise SlackError("missing_argument")
        upload = self.ws.new_file(
            filename, length, alt_txt=a.text("alt_txt"), snippet_type=a.text("snippet_type")
        )
        url = f"{self.base_url()}upload/v1/{upload.id}"
        return {"ok": True, "upload_url": url, "file_id": upload.id}

    def files_complete_upload(self, a: Args) -> JSON:
        files = a.decoded("files")
        if not isinstance(files, list) or not files:
            raise SlackError("invalid_arguments")
        channel = a.text("channel_id") or (a.text("channels") or "").split(",")[0] or None
        done = self.ws.share_files(
            files, channel, a.text("initial_comment"), a.text("thread_ts") or None
        )
        return {"ok": True, "files": [f.as_slack() for f in done]}


def _no_cursor() -> JSON:
    return {"response_metadata": {"next_cursor": ""}}
