"""`/readiness export`: the filled-in sign-off document, uploaded to the card's thread."""

from __future__ import annotations

import logging
from dataclasses import replace

import aiohttp
from slack_sdk.errors import SlackApiError, SlackRequestError
from slack_sdk.web.async_client import AsyncWebClient

from bot.documents.markdown import export_filename, render_markdown
from bot.domain.errors import DomainError, InvalidState
from bot.domain.model import Release
from bot.domain.text import Code, Phrase, Strong, phrase
from bot.services.container import Services
from bot.slack.blocks.text import escape

log = logging.getLogger(__name__)
MAX_NAMES = 50


async def display_names(client: AsyncWebClient, users: list[str]) -> dict[str, str]:
    """Display names for the file (users.info), as far as Slack tells them: without the
    `users:read` scope, or for someone who left, the file shows the user id alone."""
    names: dict[str, str] = {}
    for user in users[:MAX_NAMES]:
        try:
            answer = await client.users_info(user=user)
        except SlackApiError as exc:
            if exc.response.get("error") in ("missing_scope", "not_allowed_token_type"):
                break
            continue
        found = answer.get("user") or {}
        profile = found.get("profile") or {}
        name = profile.get("display_name") or profile.get("real_name") or found.get("name")
        if name:
            names[user] = str(name)
    return names


def _refused(release: Release, exc: SlackApiError | SlackRequestError) -> DomainError:
    why: Phrase = phrase("the file upload failed")
    if isinstance(exc, SlackApiError):
        error = str(exc.response.get("error") or f"HTTP {exc.response.status_code}")
        needed = exc.response.get("needed")
        why = phrase(Code(error))
        if needed:
            why = phrase(why, ": the app needs the ", Code(str(needed)), " scope")
    log.warning("export of release %s refused by Slack: %s", release.id, exc)
    return DomainError(
        "Slack refused the sign-off document of ",
        Strong(release.name),
        " (",
        why,
        "). Nothing was posted; ask whoever runs Readiness to check the app's scopes (",
        Code("files:write"),
        ") and that it is in the channel.",
    )


async def export_to_thread(
    services: Services,
    client: AsyncWebClient,
    user: str,
    name: str | None,
    channel: str,
    product: str | None = None,
) -> Release:
    """Render the release's document and upload it into its card's thread; returns the
    release. DomainError (said privately) when there is no card yet or Slack refuses."""
    release = await services.releases.resolve(name, channel, product)
    if release.card_ts is None:
        raise InvalidState(
            "The card of ",
            Strong(release.name),
            " isn't in the channel yet, so there is no thread to put the document in. "
            "Try again in a moment.",
        )
    document = await services.export.document(release.id)
    document = replace(document, names=await display_names(client, document.user_ids))
    view = document.view
    try:
        await client.files_upload_v2(
            channel=release.channel,
            thread_ts=release.card_ts,
            filename=export_filename(release.name),
            title=f"{release.name}: production readiness sign-off",
            content=render_markdown(document),
            initial_comment=(
                f":page_facing_up: <@{user}> exported the sign-off of *{escape(release.name)}*: "
                f"{view.readiness.percent}% ready, {release.state.value}. "
                f"Audit log head `{document.audit.head[:16]}`."
            ),
        )
    except (SlackApiError, SlackRequestError) as exc:
        raise _refused(release, exc) from None
    except (TimeoutError, aiohttp.ClientError) as exc:
        log.warning("export of release %s: Slack unreachable: %s", release.id, exc)
        raise DomainError(
            "I couldn't reach Slack to upload the document; please try again."
        ) from None
    return release
