"""Helpers every use-case shares inside its transaction: load a release's view, settle its state."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from bot.config import AppConfig
from bot.db import Repo
from bot.domain.errors import NotFound
from bot.domain.model import Release, ReleaseState
from bot.domain.monitoring import MonitoringStatus, timeline
from bot.domain.signoff import derive_state
from bot.domain.view import ReleaseView, build_view
from bot.text import escape


async def load_release(repo: Repo, release_id: int) -> Release:
    release = await repo.release(release_id)
    if release is None:
        raise NotFound("That release no longer exists.")
    return release


async def load_view(repo: Repo, app: AppConfig, release: Release) -> ReleaseView:
    view = build_view(
        app,
        release,
        await repo.signatures(release.id),
        await repo.rejections(release.id),
        await repo.latest_results(release.id),
        await repo.ticks(release.id),
        await repo.latest_run(release.id),
    )
    if release.deployed_at is None:
        return view
    posted = await repo.marks(release.id, "digest:")
    titles = {item.id: item.title for item in app.post_deploy.items}
    status = MonitoringStatus(
        tuple(
            (window, window.digest_key in posted)
            for window in timeline(app.post_deploy.phases, release.deployed_at)
        ),
        tuple(
            titles.get(b.item_id, b.item_id)
            for b in await repo.breaches(release.id)
            if b.recovered_at is None
        ),
    )
    return replace(view, monitoring=status)


def _suspended(name: str, view: ReleaseView) -> str:
    """Why the approval is suspended, and which signers signed while those items passed."""
    failing = view.readiness.blocking_not_passing
    titles = ", ".join(f"“{escape(v.item.title)}”" for v in failing[:5])
    more = f" and {len(failing) - 5} more" if len(failing) > 5 else ""
    lines = [
        f":warning: {name}'s approval is *suspended* until every blocking item passes again: "
        f"{titles}{more} no longer passing. The deployment gate is closed."
    ]
    for signature in view.signatures:
        seen = signature.evidence.get("items", {})
        changed = [v.item.title for v in failing if seen.get(v.item.id) == "pass"]
        if changed:
            lines.append(
                f"<@{signature.user_id}>: since you signed, "
                + ", ".join(f"“{escape(t)}”" for t in changed[:5])
                + (" no longer passes." if len(changed) == 1 else " no longer pass.")
            )
    return "\n".join(lines)


async def settle(
    repo: Repo, app: AppConfig, release: Release, now: datetime, actor: str | None
) -> ReleaseView:
    """Re-derive the release's state from the facts; record and announce any change.

    Always marks the card for an update: the caller changed something it shows.
    """
    view = await load_view(repo, app, release)
    state = derive_state(app, release.state, view.signatures, view.rejections, view.readiness)
    await repo.touch_card(release.id)
    if state is release.state:
        return view
    await repo.set_state(release.id, state, now)
    await repo.audit(
        "release.state", now, release.id, actor, old=release.state.value, new=state.value
    )
    name = f"*{escape(release.name)}*"
    announcement = {
        ReleaseState.APPROVED: (
            f":white_check_mark: {name} is *approved for production deployment*."
            if release.state is not ReleaseState.SUSPENDED
            else f":white_check_mark: {name}: every blocking item passes again, "
            "the approval is restored."
        ),
        ReleaseState.SUSPENDED: _suspended(name, view),
        ReleaseState.BLOCKED: f":no_entry: {name} is *blocked* until the rejection is withdrawn.",
        ReleaseState.OPEN: f"{name} is open for sign-off again.",
    }.get(state)
    if announcement:
        await repo.enqueue(release.id, announcement, now)
    refreshed = await load_release(repo, release.id)
    return await load_view(repo, app, refreshed)
