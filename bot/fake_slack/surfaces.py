"""Modals, their stacks, home tabs and the trigger_ids that open them."""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

from bot.fake_slack.model import JSON, SlackError, Team, View
from bot.fake_slack.workspace import Counter, with_ids

TRIGGER_TTL = 3.0
MAX_STACK = 3


@dataclass
class Trigger:
    """A trigger_id Slack put in one interaction payload."""

    id: str
    user: str
    issued_at: float
    view_id: str | None
    used: bool = False


class Surfaces:
    """Every view by id, the modal stacks (root id -> open view ids) and home tabs per user."""

    def __init__(self, team: Team, ids: Counter, clock: Callable[[], float] = time.monotonic):
        self.team = team
        self.ids = ids
        self.clock = clock
        self.views: dict[str, View] = {}
        self.triggers: dict[str, Trigger] = {}
        self.stacks: dict[str, list[str]] = {}
        self.homes: dict[str, str] = {}

    def issue_trigger(self, user: str, view_id: str | None = None, age: float = 0.0) -> str:
        """A fresh trigger_id for `user`; `age` seconds old (to test expiry)."""
        n = len(self.triggers) + 1
        trigger_id = f"{n}{int(time.time())}.{self.team.id[1:]}.{secrets.token_hex(16)}"
        self.triggers[trigger_id] = Trigger(trigger_id, user, self.clock() - age, view_id)
        return trigger_id

    def open(self, trigger_id: str, spec: JSON) -> View:
        trigger = self._exchange(trigger_id)
        view = self._new(spec, "modal", trigger.user)
        view.root_view_id = view.id
        self.stacks[view.id] = [view.id]
        return view

    def push(self, trigger_id: str, spec: JSON) -> View:
        trigger = self._exchange(trigger_id)
        stack = self._stack_of(trigger.view_id) if trigger.view_id else self._latest(trigger.user)
        if stack is None:
            raise SlackError("invalid_trigger_id")
        if len(stack) >= MAX_STACK:
            raise SlackError("push_limit_reached")
        view = self._new(spec, "modal", trigger.user)
        view.root_view_id, view.previous_view_id = stack[0], stack[-1]
        stack.append(view.id)
        return view

    def update(
        self,
        spec: JSON,
        view_id: str | None = None,
        external_id: str | None = None,
        view_hash: str | None = None,
    ) -> View:
        view = self._lookup(view_id, external_id)
        if view_hash and view_hash != view.hash:
            raise SlackError("hash_conflict")
        self._replace(view, spec)
        return view

    def publish(self, user: str, spec: JSON, view_hash: str | None = None) -> View:
        if spec.get("type") != "home":
            raise SlackError("invalid_arguments")
        current = self.views.get(self.homes.get(user, ""))
        if current is None:
            view = self._new(spec, "home", user)
            self.homes[user] = view.id
            return view
        if view_hash and view_hash != current.hash:
            raise SlackError("hash_conflict")
        self._replace(current, spec)
        return current

    def close(self, view_id: str, whole_stack: bool = False) -> None:
        """Close one modal (and those pushed above it), or its whole stack."""
        stack = self._stack_of(view_id)
        if stack is None:
            return
        cut = 0 if whole_stack else stack.index(view_id)
        for closed in stack[cut:]:
            self.views[closed].closed = True
        del stack[cut:]
        if not stack:
            self.stacks = {root: s for root, s in self.stacks.items() if s}

    def settle_submission(self, view_id: str, state: JSON, status: int, body: str) -> None:
        """Do what Slack does with the app's answer to a view_submission."""
        view = self.views[view_id]
        view.state = state
        if status != 200:
            view.errors = {"": f"app answered HTTP {status}"}
            return
        answer = json.loads(body) if body.strip() else {}
        action = answer.get("response_action")
        view.errors = {}
        if action is None:
            self.close(view_id)
        elif action == "clear":
            self.close(view_id, whole_stack=True)
        elif action == "errors":
            view.errors = dict(answer.get("errors") or {})
        elif action == "update":
            self._replace(view, answer["view"])
        elif action == "push":
            stack = self._stack_of(view_id) or []
            pushed = self._new(answer["view"], "modal", view.user)
            pushed.root_view_id, pushed.previous_view_id = stack[0], stack[-1]
            stack.append(pushed.id)

    def open_views(self, user: str | None = None) -> list[View]:
        """Open modals, oldest first."""
        return [
            self.views[v]
            for stack in self.stacks.values()
            for v in stack
            if user in (None, self.views[v].user)
        ]

    def _exchange(self, trigger_id: str) -> Trigger:
        trigger = self.triggers.get(trigger_id)
        if trigger is None:
            raise SlackError("invalid_trigger_id")
        if trigger.used:
            raise SlackError("exchanged_trigger_id")
        if self.clock() - trigger.issued_at > TRIGGER_TTL:
            raise SlackError("expired_trigger_id")
        trigger.used = True
        return trigger

    def _new(self, spec: JSON, kind: str, user: str | None) -> View:
        if spec.get("type") != kind:
            raise SlackError("invalid_arguments")
        external_id = str(spec.get("external_id") or "")
        if external_id and any(v.external_id == external_id for v in self.views.values()):
            raise SlackError("duplicate_external_id")
        view = View(
            id=self.ids.next("V"),
            type=kind,
            user=user,
            spec={**spec, "blocks": with_ids(spec.get("blocks", []))},
            hash=_hash(),
            team=self.team,
            external_id=external_id,
        )
        self.views[view.id] = view
        return view

    def _replace(self, view: View, spec: JSON) -> None:
        view.history.append(view.spec)
        view.spec = {**spec, "blocks": with_ids(spec.get("blocks", []))}
        view.hash = _hash()
        view.external_id = str(spec.get("external_id") or view.external_id)

    def _lookup(self, view_id: str | None, external_id: str | None) -> View:
        if view_id:
            found = self.views.get(view_id)
        else:
            found = next((v for v in self.views.values() if v.external_id == external_id), None)
        if found is None or not (view_id or external_id):
            raise SlackError("not_found")
        return found

    def _stack_of(self, view_id: str | None) -> list[str] | None:
        return next((s for s in self.stacks.values() if view_id in s), None)

    def _latest(self, user: str) -> list[str] | None:
        mine = [s for s in self.stacks.values() if s and self.views[s[0]].user == user]
        return mine[-1] if mine else None


def _hash() -> str:
    return f"{int(time.time())}.{secrets.token_hex(4)}"
