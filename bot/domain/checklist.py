"""The checklist as app.yaml declares it: roles, sections of items, post-deploy phases.

Validated models (pydantic) with the rules that need no other file: an id's shape, a
phase that fits its cadence. `bot/config.py` reads the file and the environment into
them and adds what needs the whole file (a final role, unique ids, check parameters).
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from collections.abc import Mapping
from datetime import timedelta
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

from bot.domain.freezes import Freeze
from bot.domain.github import GitHubSettings
from bot.domain.units import Unit, measured
from bot.domain.waivers import WaiverSettings
from checks.base import CheckParams, UnvalidatedCheck
from checks.durations import Duration, format_duration

ID = r"^[a-z0-9][a-z0-9_]*$"


def _id_list(value: Any) -> Any:
    """Member and user-group lists may come from the environment as 'U1, U2'."""
    if isinstance(value, str):
        return [part for part in re.split(r"[,\s]+", value) if part]
    return [] if value is None else value


IdList = Annotated[list[str], BeforeValidator(_id_list)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Role(Strict):
    title: str = Field(min_length=1, max_length=80)
    members: IdList = Field(default_factory=list)
    usergroups: IdList = Field(default_factory=list)
    attestations: list[Annotated[str, Field(min_length=1, max_length=150)]] = Field(
        default_factory=list
    )
    min_signers: int = Field(default=1, ge=1, le=10)
    final: bool = False
    # A signature goes stale, to be given again, when the release's ref or the checklist
    # changes after it was given, or a waiver it was not given with is in force.
    stale_on: list[Literal["ref", "config", "waiver"]] = ["ref", "config", "waiver"]


class Item(Strict):
    id: str = Field(pattern=ID, max_length=60)
    title: str = Field(min_length=1, max_length=150)
    group: str | None = None
    check: CheckParams | None = None
    blocking: bool = True
    owner: str | None = None
    weight: int = Field(default=1, ge=0, le=100)
    unit: Unit | None = None  # what its check measures: how values and limits read
    waivable: bool = True  # a waiver may count it as passing for a while

    def reads(self, status: str, reason: str, values: Mapping[str, Any]) -> str:
        """A result of this item's check in words, its numbers in the item's unit."""
        return measured(status, reason, values, self.unit)

    @field_validator("check", mode="before")
    @classmethod
    def _keep_raw(cls, value: Any) -> Any:
        # A check's own parameters are validated by its type's model after this pass.
        if isinstance(value, Mapping):
            return UnvalidatedCheck.model_validate(value)
        return value

    @property
    def automated(self) -> bool:
        return self.check is not None


class Section(Strict):
    id: str = Field(pattern=ID, max_length=60)
    title: str = Field(min_length=1, max_length=100)
    items: list[Item] = Field(min_length=1)


class Phase(Strict):
    id: str = Field(pattern=ID)
    title: str
    duration: Duration
    every: Duration

    @model_validator(mode="after")
    def _runs_within(self) -> Phase:
        if self.every > self.duration:
            raise ValueError(
                f"every ({format_duration(self.every)}) is longer than the phase's duration "
                f"({format_duration(self.duration)}): it would run once, at its start"
            )
        return self


class PostDeploy(Strict):
    items: list[Item] = Field(default_factory=list)
    phases: list[Phase] = Field(default_factory=list)
    # Roles whose members may mark a release deployed, and are called on a breach
    # (acknowledge, roll back); the final role always may. Default: devops_lead, if any.
    responders: list[str] | None = None
    # A digest that fell due while the bot was down is posted once; past this, marked late.
    grace: Duration = timedelta(minutes=15)


class Schedules(Strict):
    recheck: str | None = None  # cron expressions, checked by bot/config.py
    reminder: str | None = None
    window_lead: Duration = timedelta(hours=2)  # remind again this long before the window
    tick: Duration = timedelta(seconds=15)  # how often due post-deploy work is looked for


class ChecksSettings(Strict):
    concurrency: int = Field(default=20, ge=1, le=500)
    # A run is its replica's under a lease renewed as it goes: one that stops renewing
    # (it died) for this long has its run finished by another replica.
    lease: Duration = timedelta(seconds=30)


class SlackSettings(Strict):
    card_update_interval: Duration = timedelta(seconds=2)
    post_interval: Duration = timedelta(seconds=1)


class AppConfig(Strict):
    product: str = Field(min_length=1, max_length=80)
    channel: str | None = None
    channels: list[str] = Field(default_factory=list)  # the product's release channels
    roles: dict[str, Role]
    sections: list[Section] = Field(min_length=1)
    post_deploy: PostDeploy = Field(default_factory=PostDeploy)
    schedules: Schedules = Field(default_factory=Schedules)
    checks: ChecksSettings = Field(default_factory=ChecksSettings)
    slack: SlackSettings = Field(default_factory=SlackSettings)
    github: GitHubSettings | None = None  # the GitHub Actions jobs this product gates
    freezes: list[Freeze] = Field(default_factory=list)  # change freezes: no deploys
    waivers: WaiverSettings = Field(default_factory=WaiverSettings)

    @field_validator("channel", mode="before")
    @classmethod
    def _blank_channel(cls, value: Any) -> Any:
        return value or None

    @model_validator(mode="after")
    def _github_has_a_channel(self) -> AppConfig:
        if self.github is not None and not self.homes:
            raise ValueError("github: needs the product's channel (where its releases open)")
        return self

    @model_validator(mode="after")
    def _waiver_approvers_are_roles(self) -> AppConfig:
        unknown = [r for r in self.waivers.approvers or [] if r not in self.roles]
        if unknown:
            raise ValueError(
                f"waivers.approvers names no role: {', '.join(unknown)} "
                f"(the roles are {', '.join(self.roles)})"
            )
        return self

    @field_validator("freezes")
    @classmethod
    def _freeze_ids_unique(cls, freezes: list[Freeze]) -> list[Freeze]:
        ids = [f.id for f in freezes]
        if twice := sorted({i for i in ids if ids.count(i) > 1}):
            raise ValueError(f"freeze ids must be unique: {', '.join(twice)}")
        return freezes

    @property
    def homes(self) -> list[str]:
        """The product's release channels: `channel`, then `channels` (blanks dropped)."""
        return [*dict.fromkeys(c for c in [self.channel or "", *self.channels] if c)]

    @property
    def items(self) -> list[Item]:
        return [item for section in self.sections for item in section.items]

    def item(self, item_id: str) -> Item | None:
        """A checklist or post-deploy item by id."""
        return self.item_index.get(item_id)

    def title_of(self, item_id: str) -> str:
        """An item's title; the id itself for an item no longer in the checklist."""
        found = self.item_index.get(item_id)
        return found.title if found is not None else item_id

    @functools.cached_property
    def item_index(self) -> dict[str, Item]:
        """Every item by id: the checklist's and the post-deploy ones."""
        return {item.id: item for item in [*self.items, *self.post_deploy.items]}

    @property
    def final_role(self) -> str:
        return next(role_id for role_id, role in self.roles.items() if role.final)

    def role_title(self, role_id: str) -> str:
        """A role's title; the id itself for a role no longer in the checklist."""
        role = self.roles.get(role_id)
        return role.title if role is not None else role_id

    @property
    def waiver_approvers(self) -> list[str]:
        """The roles whose members grant waivers: `waivers.approvers`, else the final role."""
        return self.waivers.approvers or [self.final_role]

    @property
    def responder_roles(self) -> list[str]:
        """Who marks deployed and answers breaches: the responders, then the final role."""
        chosen = self.post_deploy.responders
        if chosen is None:
            chosen = ["devops_lead"] if "devops_lead" in self.roles else []
        return [*dict.fromkeys([*chosen, self.final_role])]

    @functools.cached_property
    def version(self) -> str:
        """A fingerprint of the checklist and what each role attests: what a signature was
        given on. Who holds a role (members, user groups) and how an item's numbers read
        (its unit) are not part of it. Computed once:
        a loaded config is not changed (a reload builds new ones)."""
        # How numbers read, and whether a waiver may be asked for, is not what was signed.
        display = {"__all__": {"unit", "waivable"}}
        shape = self.model_dump(
            mode="json",
            include={"sections", "post_deploy", "roles"},
            exclude={
                "roles": {"__all__": {"members", "usergroups", "stale_on"}},
                "sections": {"__all__": {"items": display}},
                "post_deploy": {"items": display},
            },
        )
        canonical = json.dumps(shape, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()[:12]
