"""The filled-in sign-off document in Markdown, in the seed's structure (pure).

The Markdown mirrors `production-readiness-signoff.md` heading for heading: the checklist
sections from app.yaml (numbered 1…n, each item's `group` a subsection), then Sign-Off
Process, Deployment Authorization, Post-Deployment Monitoring and Conclusion. Everything a
person typed or a target answered (comments, reasons, rollback plans, names, titles) is
escaped, so it reads literally: it can neither format the document nor carry HTML.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime

from bot.documents.markup import code, md, phrase_md, quoted, stamp, who
from bot.documents.waiver_lines import waived_item, waived_note, waiver_lines
from bot.domain.checklist import Phase
from bot.domain.document import DigestRecord, SignoffDocument
from bot.domain.model import ItemStatus, ReleaseState, Signature
from bot.domain.monitoring import PhaseWindow
from bot.domain.readiness import ItemView, SectionProgress
from bot.domain.signoff import RoleProgress

BLANK_SIGNATURE = "_________________"
BLANK_DATE = "___________"

STATE_STATUS = {
    ReleaseState.OPEN: "⏳ **PENDING APPROVAL**",
    ReleaseState.BLOCKED: "⛔ **BLOCKED BY A REJECTION**",
    ReleaseState.APPROVED: "✅ **APPROVED**",
    ReleaseState.SUSPENDED: "⚠️ **SUSPENDED: A BLOCKING ITEM REGRESSED**",
    ReleaseState.DEPLOYED: "🚀 **APPROVED AND DEPLOYED**",
    ReleaseState.MONITORING: "🚀 **DEPLOYED, UNDER POST-DEPLOYMENT MONITORING**",
    ReleaseState.DONE: "🏁 **DEPLOYED, MONITORING COMPLETE**",
    ReleaseState.CANCELLED: "✖️ **CANCELLED**",
}


def export_filename(name: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-.") or "release"
    return f"{slug}-signoff.md"


# --- Markdown ---------------------------------------------------------------------------


def render_markdown(doc: SignoffDocument) -> str:
    out: list[str] = []
    out += _header(doc)
    sections = doc.view.readiness.sections
    for number, progress in enumerate(sections, 1):
        out += _section(number, progress, doc.names)
    n = len(sections)
    out += _signoff(n + 1, doc)
    out += _authorization(n + 2, doc)
    out += _monitoring(n + 3, doc)
    out += _conclusion(n + 4, doc)
    return "\n".join(out).rstrip() + "\n"


def _readiness_line(doc: SignoffDocument) -> str:
    readiness = doc.view.readiness
    failing = [v for v in readiness.blocking_not_passing if v.status is not ItemStatus.PENDING]
    light = "🟢" if readiness.blocking_pass else ("🔴" if failing else "🟡")
    return f"{light} **{readiness.percent}% PRODUCTION READY**"


def _header(doc: SignoffDocument) -> list[str]:
    view, release = doc.view, doc.view.release
    readiness = view.readiness
    not_passing = [v for v in readiness.items if not v.passing]
    return [
        "# Production Readiness Sign-Off",
        "## Final Validation and Approval Document",
        "",
        f"**Product:** {md(view.product)}  ",
        f"**Release:** {md(release.name)}  ",
        f"**Ref:** {code(release.ref) if release.ref else 'none'}  ",
        f"**Version:** checklist {code(doc.checklist_version)}  ",
        f"**Date:** {stamp(doc.generated_at)}  ",
        f"**Status:** {STATE_STATUS[release.state]}  ",
        "**Target:** 100% Production Ready",
        "",
        "---",
        "",
        "## Executive Summary",
        "",
        f"This document is the sign-off record of {md(release.name)} for {md(view.product)}, "
        f"opened by {who(release.created_by, doc.names)} on {stamp(release.created_at)} and "
        "exported from Readiness: every item with its latest result, every signature with "
        "its attestations, the deployment authorization, the post-deployment monitoring so "
        "far, and the head of the audit log that records all of it.",
        "",
        f"### Current Status: {_readiness_line(doc)}",
        "",
        f"**Completed:** {readiness.percent}%{waived_note(readiness.items)}  ",
        f"**Remaining:** {100 - readiness.percent}% "
        f"({len(not_passing)} item(s) not passing, "
        f"{len(readiness.blocking_not_passing)} of them blocking)",
        "",
        "---",
        "",
    ]


def _item_line(view: ItemView, names: Mapping[str, str]) -> str:
    # [x]: it counts (a waived item too); the words say whether it passed or was waived.
    box = "x" if view.passing else " "
    line = f"- [{box}] {md(view.item.title)} — "
    if view.waived:
        line += waived_item(view, names)
    elif not view.item.automated and view.passing:
        line += f"**ticked** by {who(view.by, names)}"
    else:
        line += f"**{view.status.value}**: {md(view.reason)}"
    if view.at is not None:
        line += f" ({stamp(view.at)})"
    if not view.item.blocking:
        line += " _(non-blocking)_"
    return line


def _status_line(views: list[ItemView]) -> str:
    passed = sum(1 for v in views if v.passing)
    waived = waived_note(views)
    if passed == len(views):
        return f"**Status:** ✅ **COMPLETE**{waived}"
    bad = any(v.status in (ItemStatus.FAIL, ItemStatus.ERROR) and not v.waived for v in views)
    return f"**Status:** {'❌' if bad else '⏳'} **{passed}/{len(views)} PASSING**{waived}"


def _section(number: int, progress: SectionProgress, names: Mapping[str, str]) -> list[str]:
    views = list(progress.items)
    mark = " ✅" if progress.complete else ""
    out = [f"## {number}. {md(progress.section.title)}{mark}", ""]
    grouped: dict[str | None, list[ItemView]] = {}
    for view in views:
        grouped.setdefault(view.item.group, []).append(view)
    sub = 0
    for group, members in grouped.items():
        if group is not None:
            sub += 1
            out += [f"### {number}.{sub} {md(group)}"]
        out += [_item_line(v, names) for v in members]
        out += ["", _status_line(members), ""]
    return [*out, "---", ""]


def _signature_lines(signature: Signature, names: Mapping[str, str]) -> list[str]:
    seen = signature.evidence
    ref, version = seen.get("ref"), seen.get("config_version")
    evidence = f"on ref {code(str(ref))}" if ref else "on no ref"
    if version:
        evidence += f", checklist {code(str(version))}"
    waived = sorted(k for k, status in (seen.get("items") or {}).items() if status == "waived")
    if waived:
        evidence += ", with " + ", ".join(code(k) for k in waived) + " waived"
    out = [
        f"- **Name:** {who(signature.user_id, names)}",
        f"- **Signature:** ✅ signed in Slack by {code(signature.user_id)} {evidence} "
        f"**Date:** {stamp(signature.signed_at)}",
    ]
    if signature.comment:
        out += ["- **Comment:**", *quoted(signature.comment, "  ")]
    return out


def _role_block(progress: RoleProgress, names: Mapping[str, str]) -> list[str]:
    role = progress.role
    out = [f"**{md(role.title)}:**"]
    for attestation in role.attestations:
        given = bool(progress.signatures) and all(
            attestation in s.attestations for s in progress.signatures
        )
        out.append(f"- [{'x' if given else ' '}] {md(attestation)}")
    for signature in progress.signatures:
        out += _signature_lines(signature, names)
    missing = role.min_signers - len(progress.signatures)
    if missing > 0:
        more = f" ({missing} signature(s) still needed)" if role.min_signers > 1 else ""
        out.append(f"- **Signature:** {BLANK_SIGNATURE} **Date:** {BLANK_DATE}{more}")
    return [*out, ""]


def _signoff(number: int, doc: SignoffDocument) -> list[str]:
    view, names = doc.view, doc.names
    out = [f"## {number}. Sign-Off Process", "", f"### {number}.1 Required Approvals", ""]
    for progress in view.roles:
        if not progress.role.final:
            out += _role_block(progress, names)
    out += [f"### {number}.2 Final Approval", ""]
    for progress in view.roles:
        if progress.role.final:
            out += _role_block(progress, names)
    out += [f"### {number}.3 Stale Signatures", ""]
    titles = {p.role_id: p.role.title for p in view.roles}
    out += [
        f"- {md(titles.get(s.signature.role_id, s.signature.role_id))}: "
        f"{who(s.signature.user_id, names)}, signed {stamp(s.signature.signed_at)}; "
        f"no longer counts: {phrase_md(s.staleness.phrase(), names)}"
        for s in view.stale
    ] or ["None."]
    out += ["", f"### {number}.4 Rejections", ""]
    for rejection in view.rejections:
        out += [f"- {who(rejection.user_id, names)}, {stamp(rejection.created_at)}:"]
        out += quoted(rejection.reason, "  ")
    for rejection in doc.withdrawn_rejections:
        out += [
            f"- {who(rejection.user_id, names)}, {stamp(rejection.created_at)}; "
            f"withdrawn {stamp(rejection.withdrawn_at)}:"
        ]
        out += quoted(rejection.reason, "  ")
    if not view.rejections and not doc.withdrawn_rejections:
        out.append("None.")
    return [*out, "", "---", ""]


def _authorization(number: int, doc: SignoffDocument) -> list[str]:
    view, release, names = doc.view, doc.view.release, doc.names
    auth = view.authorization
    yes, no = ("☑", "☐") if auth.approved else ("☐", "☑")
    out = [
        f"## {number}. Deployment Authorization",
        "",
        f"**Status:** {STATE_STATUS[release.state]}",
        "",
        f"**Approved for Production Deployment:** {yes} Yes {no} No",
        "",
    ]
    if release.approved_at is not None:
        out += [f"**Approved at:** {stamp(release.approved_at)}", ""]
    out += ["**Conditions:**"]
    waived = waived_note([v for v in view.readiness.items if v.item.blocking])
    out += [
        f"- [{'x' if c.met else ' '}] {md(c.text)}{waived if c.kind == 'checks' else ''}"
        for c in auth.conditions
    ]
    if auth.reasons:
        out += ["", "**Not approved because:**"]
        out += [f"- {phrase_md(reason.phrase(), names)}" for reason in auth.reasons]
    if view.exceptions:
        out += ["", "**Change-freeze exceptions:**"]
        for e in view.exceptions:
            out += [
                f"- {md(e.title or e.freeze_id)} until {stamp(e.ends_at)}, granted by "
                f"{who(e.granted_by, names)} at {stamp(e.granted_at)}:"
            ]
            out += quoted(e.reason, "  ")
    if view.waivers:
        out += ["", "**Waivers** (every one asked for, oldest first):"]
        for waiver in view.waivers:
            out += waiver_lines(view, waiver, names)
    window = (
        f"{stamp(release.window_start)} – {stamp(release.window_end)}"
        if release.window_start and release.window_end
        else BLANK_SIGNATURE
    )
    team = ", ".join(who(u, names) for u in release.deploy_team) or BLANK_SIGNATURE
    out += ["", f"**Deployment Window:** {window}", "", f"**Deployment Team:** {team}", ""]
    if release.rollback_plan:
        out += ["**Rollback Plan:**", "", *quoted(release.rollback_plan)]
    else:
        out += [f"**Rollback Plan:** {BLANK_SIGNATURE}"]
    if release.deployed_at is not None:
        out += [
            "",
            f"**Deployed:** {stamp(release.deployed_at)} by {who(release.deployed_by, names)}",
        ]
    return [*out, "", "---", ""]


def _phase_state(window: PhaseWindow | None, digest: DigestRecord | None, now: datetime) -> str:
    if window is None:
        return "_Not started: monitoring begins when the release is marked deployed._"
    span = f"{stamp(window.start)} – {stamp(window.end)}"
    if digest is not None:
        late = " (late)" if digest.late else ""
        return f"_{span}; digest posted {stamp(digest.posted_at)}{late}._"
    if now < window.start:
        return f"_Scheduled: {span}._"
    if now < window.end:
        return f"_In progress: {span}._"
    return f"_{span}; ended, digest not posted yet._"


def _phase(
    number: str, phase: Phase, window: PhaseWindow | None, doc: SignoffDocument
) -> list[str]:
    digest = doc.digest(phase.id)
    out = [f"### {number} {md(phase.title)}", "", _phase_state(window, digest, doc.generated_at)]
    out.append("")
    summaries = {i.id: i for i in digest.items} if digest else {}
    running = window is not None and window.start <= doc.generated_at < window.end
    for item in doc.phase_items(phase):
        summary = summaries.get(item.id)
        if summary is not None and summary.runs:
            line = f"- [{'x' if summary.healthy else ' '}] {md(item.title)} — passed "
            line += f"{summary.passed}/{summary.runs} runs"
            if summary.worst:
                line += f", {md(summary.worst)}"
            if not summary.healthy and summary.last_status:
                line += f"; last: **{md(summary.last_status)}**: {md(summary.last_reason)}"
        elif item.check is None:
            line = f"- [ ] {md(item.title)} — manual: judged by its owner, not checked here"
        elif digest is not None:
            line = f"- [ ] {md(item.title)} — no run in this phase"
        elif running and item.id in doc.post_results:
            latest = doc.post_results[item.id]
            line = f"- [ ] {md(item.title)} — in progress; latest **{latest.status.value}**: "
            line += f"{md(latest.reason)} ({stamp(latest.at)})"
        else:
            line = f"- [ ] {md(item.title)} — pending"
        if not item.blocking:
            line += " _(non-blocking)_"
        out.append(line)
    if digest is not None:
        out += [
            "",
            f"**Digest:** {digest.healthy_items}/{len(digest.items)} post-deploy items passed "
            f"every run, {len(digest.breaches)} breach(es) (every phase runs all of them).",
        ]
        for breach in digest.breaches:
            line = f"- ⚠️ {md(breach.item)}: opened {stamp(breach.opened_at)}: {md(breach.reason)}"
            if breach.recovered_at:
                line += f"; recovered {stamp(breach.recovered_at)}"
            out.append(line)
    return [*out, ""]


def _monitoring(number: int, doc: SignoffDocument) -> list[str]:
    names = doc.names
    out = [f"## {number}. Post-Deployment Monitoring", ""]
    windows = {w.phase.id: w for w in doc.windows}
    for index, phase in enumerate(doc.phases, 1):
        out += _phase(f"{number}.{index}", phase, windows.get(phase.id), doc)
    out += [f"### {number}.{len(doc.phases) + 1} Alerts", ""]
    for alert in doc.alerts:
        line = f"- {md(doc.post_title(alert.item_id))}: opened {stamp(alert.opened_at)}: "
        line += md(alert.reason)
        line += f"; recovered {stamp(alert.recovered_at)}" if alert.recovered_at else "; still open"
        if alert.acknowledged_by:
            line += f"; acknowledged by {who(alert.acknowledged_by, names)}"
        if alert.rolled_back_by:
            line += f"; roll back decided by {who(alert.rolled_back_by, names)}"
        out.append(line)
    if not doc.alerts:
        out.append("None.")
    return [*out, "", "---", ""]


def _conclusion(number: int, doc: SignoffDocument) -> list[str]:
    view, release = doc.view, doc.view.release
    readiness, auth = view.readiness, view.authorization
    ready = "✅ **YES**" if readiness.blocking_pass else "❌ **NO**"
    remaining = [f"{md(p.role.title)} sign-off" for p in view.open_roles]
    blocking = readiness.blocking_not_passing
    if blocking:
        remaining.insert(0, f"{len(blocking)} blocking item(s) not passing")
    if not auth.approved and release.state is not ReleaseState.CANCELLED:
        remaining.append("Deployment authorization")
    audit = doc.audit
    sealed = (
        f"{audit.events} events, hash chain verified"
        if audit.verified
        else f"⚠️ hash chain BROKEN: {md(audit.problem)}"
    )
    out = [
        f"## {number}. Conclusion",
        "",
        f"**Current Status:** {_readiness_line(doc)}",
        "",
        f"**Ready for Sign-Off:** {ready}{waived_note(readiness.items)}",
        "",
        f"**Deployment Authorized:** {'✅ **YES**' if auth.approved else '❌ **NO**'}",
        "",
        "**Remaining Tasks:**",
        *([f"- {task}" for task in remaining] or ["- None"]),
        "",
        f"**Audit Log Head:** {code(audit.head)} ({sealed})",
        "",
        "---",
        "",
        f"**Document Version:** checklist {code(doc.checklist_version)}  ",
        f"**Last Updated:** {stamp(doc.generated_at)}  ",
        f"**Release State:** {release.state.value}  ",
        "**Status:** exported by Readiness from its audit-logged record",
    ]
    return out
