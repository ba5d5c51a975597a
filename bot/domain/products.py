"""The products one bot serves: each product's checklist by id, the channels that route
to it, and the settings that are the bot's rather than any product's."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import timedelta

from bot.domain.checklist import AppConfig, ChecksSettings, SlackSettings
from bot.domain.errors import InvalidInput, ProductGone
from bot.domain.text import Code, joined


def product_id_of(title: str) -> str:
    """A single file's product id: its `product` name in lower case, other characters as
    `_` (`LUMINES/WIS2L` -> `lumines_wis2l`): the file name that keeps its releases when
    the file becomes one of a directory."""
    slug = re.sub(r"[^a-z0-9]+", "_", title.lower()).strip("_")
    return slug or "product"


@dataclass(frozen=True)
class BotSettings:
    """What is the bot's, not a product's: `_settings.yaml`, or the single file's."""

    checks: ChecksSettings = field(default_factory=ChecksSettings)
    slack: SlackSettings = field(default_factory=SlackSettings)
    tick: timedelta = timedelta(seconds=15)


@dataclass(frozen=True)
class Catalog:
    """Every product by id (in file-name order), where each was read from."""

    products: Mapping[str, AppConfig]
    bot: BotSettings = field(default_factory=BotSettings)
    sources: Mapping[str, str] = field(default_factory=dict)
    directory: bool = False  # read from a directory of products (else one file)

    @classmethod
    def single(cls, app: AppConfig, source: str = "app.yaml") -> Catalog:
        """One file, one product: today's format, its bot settings in it."""
        bot = BotSettings(app.checks, app.slack, app.schedules.tick)
        pid = product_id_of(app.product)
        return cls({pid: app}, bot, {pid: source})

    def __iter__(self) -> Iterator[str]:
        return iter(self.products)

    def __len__(self) -> int:
        return len(self.products)

    @property
    def ids(self) -> list[str]:
        return list(self.products)

    @property
    def only(self) -> str | None:
        """The product's id when there is exactly one."""
        return next(iter(self.products)) if len(self.products) == 1 else None

    def get(self, product_id: str) -> AppConfig | None:
        return self.products.get(product_id)

    def config(self, product_id: str) -> AppConfig:
        """A product's checklist; a product no longer configured is said, not guessed."""
        found = self.products.get(product_id)
        if found is None:
            raise ProductGone(
                "The product ",
                Code(product_id),
                " is no longer configured (a product's id is its file's name); its releases "
                "wait until it is back.",
            )
        return found

    def title(self, product_id: str) -> str:
        found = self.products.get(product_id)
        return found.product if found is not None else product_id

    def of_channel(self, channel: str | None) -> str | None:
        """The product that claims CHANNEL (None: no product does)."""
        if not channel:
            return None
        return next((pid for pid, app in self.products.items() if channel in app.homes), None)

    def home_of(self, channel: str | None) -> str | None:
        """The product a channel's commands are about: the one claiming it, else the only
        product (None: several, and none claims it)."""
        return self.of_channel(channel) or self.only

    def choose(self, product_id: str | None, channel: str | None) -> str:
        """The product a new release belongs to: the one named, else the channel's, else the
        only one; several and none named is a question, answered with the choices."""
        if product_id:
            if product_id not in self.products:
                raise InvalidInput(
                    "There is no product ",
                    Code(product_id),
                    "; the products are ",
                    joined(Code(p) for p in self.products),
                    ".",
                )
            return product_id
        chosen = self.home_of(channel)
        if chosen is None:
            raise InvalidInput(
                "This channel belongs to no product; name one: ",
                Code("/readiness new PRODUCT_ID NAME"),
                " with PRODUCT_ID one of ",
                joined(Code(p) for p in self.products),
                ".",
            )
        return chosen
