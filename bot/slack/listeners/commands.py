"""/readiness: ack at once, then do the sub-command (a verb of VERBS) in the background."""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.domain.errors import InvalidInput, NotFound
from bot.domain.model import PRE_DEPLOY, ReleaseState
from bot.domain.text import Code, joined
from bot.services.container import Services
from bot.slack import ids
from bot.slack.blocks.freezes import freezes_blocks, freezes_text
from bot.slack.blocks.messages import (
    help_blocks,
    list_blocks,
    list_text,
    product_blocks,
    question_blocks,
    status_blocks,
)
from bot.slack.blocks.text import escape, when
from bot.slack.exporting import export_to_thread
from bot.slack.replies import Replier
from checks.durations import format_duration

log = logging.getLogger(__name__)
_OPTION = re.compile(r"^([a-z]+)=(\S*)$")
# The options each verb takes; `product=ID` names the product when a name is in several.
OPTIONS = {
    "new": ("ref", "window", "product"),
    **{
        verb: ("product",)
        for verb in ("status", "check", "cancel", "deployed", "export", "freezes")
    },
    "waive": ("for", "product"),
}
FREE_TEXT = frozenset({"waive"})  # a reason follows: only the verb's own options are options


@dataclass(frozen=True)
class Command:
    user: str
    channel: str
    verb: str
    words: list[str] = field(default_factory=list)
    options: dict[str, str] = field(default_factory=dict)

    @property
    def name(self) -> str | None:
        return " ".join(self.words) or None

    @property
    def product(self) -> str | None:
        return self.options.get("product") or None


def parse(body: dict[str, Any]) -> Command:
    tokens = str(body.get("text") or "").split()
    verb = tokens[0].lower() if tokens else "help"
    words, options = [], {}
    free = verb in FREE_TEXT
    for token in tokens[1:]:
        match = _OPTION.match(token)
        if free and "for" in options:  # the reason follows `for=`, word for word
            match = None
        if match and (not free or match.group(1) in OPTIONS[verb]):
            options[match.group(1)] = match.group(2)
        else:
            words.append(token)
    return Command(
        str(body.get("user_id", "")), str(body.get("channel_id", "")), verb, words, options
    )


Verb = Callable[[Services, Command, Replier], Awaitable[None]]


async def new(services: Services, command: Command, reply: Replier) -> None:
    catalog = services.deps.catalog
    words, product = list(command.words), command.product
    asks = product is None and catalog.home_of(command.channel) is None  # several, unclaimed
    if asks and len(words) > 1 and words[0] in catalog.products:
        product = words.pop(0)  # `/readiness new PRODUCT_ID NAME`
    if not words:
        if asks:
            await reply.say("Which product?", product_blocks(catalog))
            return
        await reply.say(
            "Name the release: `/readiness new LUMINES 1.0.0 [ref=SHA] [window=START/END]`."
        )
        return
    opened = await services.releases.open(
        " ".join(words),
        command.options.get("ref"),
        command.user,
        command.channel,
        window=command.options.get("window"),
        product=product,
    )
    release = opened.release
    name = escape(release.name)
    of = f" of {escape(catalog.title(release.product))}" if len(catalog) > 1 else ""
    if opened.moved:
        was = f"(was `{escape(opened.old_ref)}`)" if opened.old_ref else "(it had none)"
        await reply.say(
            f"Moved *{name}* to ref `{escape(release.ref or '')}` {was}; its checks run again."
        )
    elif not opened.created:
        await reply.say(
            f"*{name}* is already {release.state.value}; its card is in <#{release.channel}>."
        )
    else:
        planned = ""
        if release.window_start and release.window_end:
            planned = (
                f" Planned deployment window: {when(release.window_start)} – "
                f"{when(release.window_end)}."
            )
        await reply.say(
            f"Opened *{name}*{of} in <#{release.channel}>; "
            f"running {opened.checks or 0} automated checks.{planned}"
        )


async def status(services: Services, command: Command, reply: Replier) -> None:
    view = await services.releases.resolve_view(command.name, command.channel, command.product)
    await reply.say(f"{view.release.name}: {view.readiness.percent}% ready", status_blocks(view))


async def listing(services: Services, command: Command, reply: Replier) -> None:
    """`list [all] [STATE]`: the open releases (or those in one state) of the channel's
    product (`all`, or a channel no product claims: every product's), a page at a time."""
    words = list(command.words)
    every = bool(words) and words[0].lower() == "all"
    wanted = " ".join(words[1:] if every else words) or None
    states: frozenset[ReleaseState] = PRE_DEPLOY
    if wanted:
        try:
            states = frozenset({ReleaseState(wanted.lower())})
        except ValueError:
            raise InvalidInput(
                "There is no state ",
                Code(wanted),
                "; the states are ",
                joined(Code(s.value) for s in ReleaseState),
                ".",
            ) from None
    catalog = services.deps.catalog
    home = None if every or len(catalog) == 1 else catalog.of_channel(command.channel)
    found = await services.releases.listing(states, products=[home] if home else None)
    await reply.say(list_text(found), list_blocks(found))


async def check(services: Services, command: Command, reply: Replier) -> None:
    words, product = list(command.words), command.product
    section = None
    section_ids = section_ids_near(services, command.channel, product)
    if words and words[-1] in section_ids:
        section = words.pop()
    try:
        release = await services.releases.resolve(" ".join(words) or None, command.channel, product)
    except NotFound:
        if section is None and len(words) > 1:  # `check NAME typo`: say which word is wrong
            try:
                await services.releases.resolve(" ".join(words[:-1]), command.channel, product)
            except NotFound:
                pass
            else:
                raise InvalidInput(
                    "There is no section ",
                    Code(words[-1]),
                    "; the sections are ",
                    joined(Code(s) for s in sorted(section_ids)),
                    ".",
                ) from None
        raise
    total = await services.checks.start(release.id, "command", command.user, section)
    name = escape(release.name)
    if total is None:
        await reply.say(f"Checks of *{name}* are already running.")
    elif total:
        await reply.say(f"Running {total} checks of *{name}*; the card fills in as results arrive.")
    else:
        await reply.say(f"*{name}* has no automated checks to run.")


def section_ids_near(services: Services, channel: str, product: str | None) -> set[str]:
    """The section ids `check NAME SECTION` may name: the product's (asked for, or the
    channel's), else any product's."""
    catalog = services.deps.catalog
    home = catalog.get(product or catalog.of_channel(channel) or "")
    apps = [home] if home is not None else catalog.products.values()
    return {s.id for app in apps for s in app.sections}


async def cancel(services: Services, command: Command, reply: Replier) -> None:
    if not command.name:
        await reply.say("Name the release to cancel: `/readiness cancel NAME`.")
        return
    found = await services.releases.resolve(command.name, command.channel, command.product)
    release = await services.releases.check_cancel(found.id, command.user)
    name = escape(release.name)
    question = (
        f"Cancel *{name}*? Its sign-off ends: nobody can sign it, the gate stays closed, "
        "and it cannot be reopened."
    )
    value = ids.Ref(r=release.id, op=ids.OP_CANCEL).encode()
    await reply.say(
        f"Cancel {release.name}?", question_blocks(question, "Cancel the release", "Keep it", value)
    )


async def deployed(services: Services, command: Command, reply: Replier) -> None:
    release = await services.releases.resolve(command.name, command.channel, command.product)
    await services.deploy.mark_deployed(release.id, command.user)
    await reply.say(
        f"Marked *{escape(release.name)}* deployed; post-deployment monitoring has started."
    )


async def export(services: Services, command: Command, reply: Replier) -> None:
    release = await export_to_thread(
        services, reply.client, command.user, command.name, command.channel, command.product
    )
    await reply.say(
        f"Uploaded the sign-off document of *{escape(release.name)}* to its card's thread "
        f"in <#{release.channel}>."
    )


async def freezes(services: Services, command: Command, reply: Replier) -> None:
    """`freezes`: the channel's product's change freezes, now and next."""
    catalog = services.deps.catalog
    product = catalog.choose(command.product, command.channel)
    app = catalog.config(product)
    found = services.freezes.listing(app)
    await reply.say(freezes_text(app.product, found), freezes_blocks(app.product, found))


async def waive(services: Services, command: Command, reply: Replier) -> None:
    """`waive [NAME] ITEM_ID for=DURATION REASON…`: the item id separates the release's
    name from the reason."""
    catalog = services.deps.catalog
    home = catalog.get(command.product or catalog.of_channel(command.channel) or "")
    words = command.words
    at = None
    for apps in ([home] if home is not None else [], list(catalog.products.values())):
        item_ids = {item.id for app in apps for item in app.items}
        at = next((n for n, word in enumerate(words) if word in item_ids), None)
        if at is not None:  # the channel's product's items first, then any product's
            break
    if at is None:
        raise InvalidInput(
            "Name the checklist item to waive by its id: ",
            Code("/readiness waive [NAME] ITEM_ID for=2d REASON…"),
            " (the Checklist offers Request waiver… on a failing item).",
        )
    name = " ".join(words[:at]) or None
    release = await services.releases.resolve(name, command.channel, command.product)
    reason = " ".join(words[at + 1 :])
    asked = await services.waivers.request(
        release.id, words[at], command.user, command.options.get("for"), reason
    )
    item = escape(asked.waiver.item_title)
    await reply.say(
        f"Asked to waive *{item}* on *{escape(release.name)}* for "
        f"{format_duration(asked.waiver.duration)}; the request is in its card's thread "
        f"in <#{release.channel}>, for another approver to answer."
    )


async def help_text(services: Services, command: Command, reply: Replier) -> None:
    note = None if command.verb == "help" else f"I don't know `{escape(command.verb)}`."
    await reply.say("Readiness help", help_blocks(note, services.deps.catalog))


VERBS: dict[str, Verb] = {
    "new": new,
    "status": status,
    "list": listing,
    "check": check,
    "cancel": cancel,
    "deployed": deployed,
    "export": export,
    "freezes": freezes,
    "waive": waive,
    "help": help_text,
}


async def run_command(services: Services, command: Command, reply: Replier) -> None:
    log.info("/readiness %s from %s in %s", command.verb[:20], command.user, command.channel)
    verb = VERBS.get(command.verb, help_text)
    if verb is not help_text:
        check_options(command, several=len(services.deps.catalog) > 1)
    await verb(services, command, reply)


def check_options(command: Command, several: bool = False) -> None:
    """Every option given is one the verb takes, with a value: a typo is said, not ignored.
    `product=` is offered only where there are SEVERAL products to choose from."""
    takes = OPTIONS.get(command.verb, ())
    for key, value in command.options.items():
        if key not in takes:
            shown = [k for k in takes if several or k != "product"]
            offered = joined(Code(f"{k}=") for k in shown) if shown else "no options"
            raise InvalidInput(
                "I don't know the option ",
                Code(f"{key}="),
                f"; /readiness {command.verb} takes ",
                offered,
                ".",
            )
        if not value:
            raise InvalidInput("Give a value after ", Code(f"{key}="), ".")


def register(app: AsyncApp, services: Services) -> None:
    @app.command(ids.COMMAND)
    async def readiness_command(ack: Any, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        command = parse(body)
        reply = Replier(client, command.user, command.channel, body.get("response_url"))
        services.deps.tasks.spawn(run_command(services, command, reply), on_error=reply.error)
