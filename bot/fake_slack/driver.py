"""SlackDriver: a person in Slack, sending the app signed requests as Slack would.

It gets trigger_ids and response_urls from the fake (so views.open and `respond`
work against it) and, after a modal submission, tells the fake what the app answered
(close, errors, update, push) just as Slack's client would act on it.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from typing import Any, TypedDict

import httpx

from bot.fake_slack import payloads
from bot.fake_slack.elements import describe_actions, element_action, find_elements, view_state
from bot.fake_slack.model import JSON, Ephemeral, Message, Response, Team, View
from bot.fake_slack.thread import FakeSlackThread

Clickable = Message | Ephemeral | Response | Mapping[str, Any]


class TeamFields(TypedDict):
    team_id: str
    team_domain: str
    api_app_id: str


_EVENT_IDS = itertools.count(1)


class SlackDriver:
    """Posts signed slash commands, clicks, submissions and events to the app's URL."""

    def __init__(
        self,
        bot_url: str,
        signing_secret: str,
        fake: FakeSlackThread,
        team_id: str = "T0001",
        *,
        client: httpx.Client | None = None,
    ) -> None:
        self.bot_url, self.signing_secret, self.fake = bot_url, signing_secret, fake
        team = Team()
        self.team_id, self.team_domain, self.app_id = team_id, team.domain, team.app_id
        self.http = client or httpx.Client(timeout=10.0)
        self._event_ids = _EVENT_IDS  # unique across drivers, as Slack's are
        self.last_trigger_id = ""
        self.last_response_url = ""
        self.last_event_id = ""

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> SlackDriver:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # --- what a person does -------------------------------------------------------------

    def command(
        self, user: str, text: str, channel: str = "CRELEASE", command: str = "/readiness"
    ) -> httpx.Response:
        """Type `/readiness text` in `channel`."""
        body = payloads.slash_command(
            user,
            text,
            user_name=self._name(user),
            channel_id=channel,
            channel_name=self.fake.channel_name(channel),
            command=command,
            response_url=self._response_url(channel, user),
            trigger_id=self._trigger(user),
            **self._team(),
        )
        return self.post(body, payloads.FORM)

    def click(
        self,
        user: str,
        message: Clickable,
        action_id: str,
        value: Any = None,
        channel: str | None = None,
    ) -> httpx.Response:
        """Click a button (or pick `value` from an overflow/select) in a message."""
        msg, channel, ephemeral = self._message(message, channel)
        block, element = self._element(msg.get("blocks") or [], action_id, value)
        body = payloads.block_actions(
            self._who(user),
            {"id": channel, "name": self.fake.channel_name(channel)},
            msg,
            element_action(block, element, value),
            is_ephemeral=ephemeral,
            trigger_id=self._trigger(user),
            response_url=self._response_url(channel, user, msg["ts"], ephemeral),
            **self._team(),
        )
        return self.post(body, payloads.FORM)

    def click_in_view(
        self,
        user: str,
        view: View | str,
        action_id: str,
        value: Any = None,
        values: Mapping[str, Any] | None = None,
    ) -> httpx.Response:
        """Act on an element inside a modal or home tab (`values`: what is typed so far)."""
        stored = self._view(view)
        block, element = self._element(stored.blocks, action_id, value)
        slack_view = stored.as_slack()
        slack_view["state"] = view_state(stored.blocks, dict(values or {}), enforce_required=False)
        body = payloads.view_block_actions(
            self._who(user),
            slack_view,
            element_action(block, element, value),
            trigger_id=self._trigger(user, stored.id),
            **self._team(),
        )
        return self.post(body, payloads.FORM)

    def submit(
        self,
        user: str,
        view: View | str,
        values: Mapping[str, Any] | None = None,
        enforce_required: bool = True,
    ) -> httpx.Response:
        """Submit a modal the app opened; the fake then closes/updates it as Slack would."""
        stored = self._view(view)
        if stored.closed:
            raise AssertionError(f"view {stored.id} ({stored.callback_id}) is already closed")
        slack_view = stored.as_slack()
        state = view_state(stored.blocks, dict(values or {}), enforce_required)
        body = payloads.view_submission(
            self._who(user),
            slack_view,
            values,
            enforce_required=enforce_required,
            trigger_id=self._trigger(user, stored.id),
            **self._team(),
        )
        answer = self.post(body, payloads.FORM)
        self.fake.settle_submission(stored.id, state, answer.status_code, answer.text)
        return answer

    def dismiss(self, user: str, view: View | str) -> httpx.Response | None:
        """Close a modal with its close button; `view_closed` is sent if notify_on_close."""
        stored = self._view(view)
        self.fake.close_view(stored.id)
        if not stored.spec.get("notify_on_close"):
            return None
        return self.post(
            payloads.view_closed(self._who(user), stored.as_slack(), **self._team()), payloads.FORM
        )

    def event(
        self,
        event: Mapping[str, Any],
        retry_num: int | None = None,
        event_id: str | None = None,
        retry_reason: str = "http_timeout",
    ) -> httpx.Response:
        """Deliver an Events API event; pass the same event_id with retry_num to redeliver."""
        event_id = event_id or f"Ev{next(self._event_ids):08d}"
        self.last_event_id = event_id
        body = payloads.event_callback(
            event, event_id, self.team_id, api_app_id=self.app_id, bot_user_id="UBOT"
        )
        headers: dict[str, str] = {}
        if retry_num is not None:
            headers = {"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": retry_reason}
        return self.post(body, payloads.JSON_TYPE, headers)

    def open_home(self, user: str) -> httpx.Response:
        """Open the app's Home tab (the app_home_opened event)."""
        event = {
            "type": "app_home_opened",
            "user": user,
            "channel": self.fake.dm_channel(user),
            "tab": "home",
        }
        return self.event(event)

    def raw(self, body: bytes, headers: Mapping[str, str] | None = None) -> httpx.Response:
        """POST exactly these bytes and headers (nothing signed): forged or malformed requests."""
        return self.http.post(self.bot_url, content=body, headers=dict(headers or {}))

    def post(
        self, body: bytes, content_type: str, headers: Mapping[str, str] | None = None
    ) -> httpx.Response:
        """POST `body` signed with the signing secret."""
        signed = {"Content-Type": content_type, **payloads.sign(self.signing_secret, body)}
        return self.http.post(self.bot_url, content=body, headers={**signed, **(headers or {})})

    # --- helpers ------------------------------------------------------------------------

    def _team(self) -> TeamFields:
        return {"team_id": self.team_id, "team_domain": self.team_domain, "api_app_id": self.app_id}

    def _who(self, user: str) -> dict[str, str]:
        return {"id": user, "name": self._name(user)}

    def _name(self, user: str) -> str:
        known = self.fake.user(user)
        return known.name if known else user.lower()

    def _trigger(self, user: str, view_id: str | None = None) -> str:
        self.last_trigger_id = self.fake.issue_trigger_id(user, view_id)
        return self.last_trigger_id

    def _response_url(
        self, channel: str, user: str, message_ts: str | None = None, ephemeral: bool = False
    ) -> str:
        self.last_response_url = self.fake.new_response_url(channel, user, message_ts, ephemeral)
        return self.last_response_url

    def _message(self, message: Clickable, channel: str | None) -> tuple[JSON, str, bool]:
        if isinstance(message, Response):  # a private reply through a response_url
            shown = {"type": "message", "text": message.text, "blocks": message.blocks}
            ts = message.message_ts or "0"
            return {**shown, "ts": ts}, channel or message.channel or "", True
        if isinstance(message, Message):
            return message.as_slack(), channel or message.channel, False
        if isinstance(message, Ephemeral):
            return message.as_slack(), channel or message.channel, True
        msg = dict(message)
        where = channel or msg.get("channel")  # a plain dict: a message of the test's
        if not where or "ts" not in msg:
            raise AssertionError("a message dict needs 'ts', and channel= or 'channel'")
        return msg, str(where), False

    def _view(self, view: View | str) -> View:
        view_id = view if isinstance(view, str) else view.id
        stored = self.fake.view(view_id)
        if stored is None:
            raise AssertionError(f"the fake has no view {view_id}")
        return stored

    def _element(self, blocks: list[JSON], action_id: str, value: Any) -> tuple[JSON, JSON]:
        found = find_elements(blocks, action_id, value)
        if not found:
            wanted = action_id if value is None else f"{action_id} with value {value!r}"
            raise AssertionError(f"no {wanted}; available: {describe_actions(blocks)}")
        if len(found) > 1 and value is None:
            values = [e.get("value") for _, e in found]
            raise AssertionError(f"{len(found)} elements are {action_id}; pick one: value={values}")
        return found[0]
