"""The exported sign-off document, rendered from hand-built domain values: the seed's
structure heading for heading, every item and signer, section 10 filled, user text literal."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from markdown_it import MarkdownIt

from bot.config import load_app_config
from bot.documents.json_export import render_json
from bot.documents.markdown import export_filename, render_markdown
from bot.documents.markup import code, md
from bot.domain.document import AuditHead, SignoffDocument, digest_record
from bot.domain.model import (
    ItemStatus,
    LatestResult,
    Rejection,
    Release,
    ReleaseState,
    Signature,
    Tick,
)
from bot.domain.monitoring import Breach
from bot.domain.notices import Digest, decode
from bot.domain.view import build_view

ROOT = Path(__file__).resolve().parents[2]
APP = load_app_config(ROOT / "app.yaml", env={})
T0 = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
HEAD = "ab" * 32
SIGNERS = {
    "engineering_lead": "U00000ENG",
    "devops_lead": "U00000OPS",
    "security_lead": "U00000SEC",
    "product_owner": "U00000PRD",
    "cto": "U00000CTO",
}
NAMES = {"U00000ENG": "Ada Lovelace", "U00000CTO": "Grace Hopper"}
EVIL = (
    "Looks good </div> <script>alert(1)</script> **bold** _it_ [link](https://evil.example)"
    " `tick` &lt;b&gt;\n# not a heading\n1. not a list\n> not a quote"
)

# The headings of the seed document (shared/seed/production-readiness-signoff.md),
# without the ✅ its sections carried when complete.
SEED_HEADINGS = [
    "## Executive Summary",
    "## 1. Infrastructure Readiness",
    "### 1.1 Kubernetes Cluster",
    "### 1.2 Services",
    "### 1.3 Health Checks",
    "## 2. Application Readiness",
    "### 2.1 Core Functionality",
    "### 2.2 Error Handling",
    "### 2.3 Performance",
    "## 3. Security Readiness",
    "### 3.1 Security Headers",
    "### 3.2 Rate Limiting",
    "### 3.3 Authentication & Authorization",
    "### 3.4 Security Scanning",
    "## 4. Monitoring Readiness",
    "### 4.1 Prometheus",
    "### 4.2 Grafana",
    "### 4.3 Alerting",
    "## 5. Testing Readiness",
    "### 5.1 Unit Tests",
    "### 5.2 Integration Tests",
    "### 5.3 E2E Tests",
    "### 5.4 Performance Tests",
    "## 6. CI/CD Readiness",
    "### 6.1 Workflows",
    "### 6.2 Quality Gates",
    "### 6.3 Deployment Automation",
    "## 7. Documentation Readiness",
    "### 7.1 Operational Documentation",
    "### 7.2 Technical Documentation",
    "### 7.3 Disaster Recovery",
    "## 8. Final Validation Checklist",
    "### 8.1 Pre-Deployment Validation",
    "### 8.2 Deployment Validation",
    "### 8.3 Post-Deployment Validation",
    "## 9. Sign-Off Process",
    "### 9.1 Required Approvals",
    "### 9.2 Final Approval",
    "## 10. Deployment Authorization",
    "## 11. Post-Deployment Monitoring",
    "### 11.1 Immediate (First Hour)",
    "### 11.2 Extended (First 24 Hours)",
    "### 11.3 Ongoing (First Week)",
    "## 12. Conclusion",
]


def evidence(ref: str = "abc123") -> dict[str, object]:
    return {"ref": ref, "config_version": APP.version, "items": {}}


def signatures(comment: str | None = None) -> list[Signature]:
    return [
        Signature(
            n,
            role_id,
            user,
            T0 + timedelta(minutes=n),
            tuple(APP.roles[role_id].attestations),
            comment if role_id == "cto" else None,
            evidence(),
        )
        for n, (role_id, user) in enumerate(SIGNERS.items(), 1)
    ]


def passing() -> tuple[dict[str, LatestResult], dict[str, Tick]]:
    results = {
        i.id: LatestResult(i.id, ItemStatus.PASS, f"{i.id} answered 200", T0)
        for i in APP.items
        if i.automated
    }
    ticks = {i.id: Tick(i.id, "U00000OPS", T0) for i in APP.items if not i.automated}
    return results, ticks


def release(state: ReleaseState = ReleaseState.MONITORING, **fields: object) -> Release:
    base = Release(
        3,
        "LUMINES 1.0.0",
        "CRELEASE",
        state,
        "U00000REL",
        T0,
        ref="abc123",
        card_ts="1.2",
        approved_at=T0 + timedelta(minutes=6),
        window_start=T0 + timedelta(hours=1),
        window_end=T0 + timedelta(hours=3),
        deploy_team=("U00000OPS",),
        rollback_plan="helm rollback lumines </div> **now**",
        deployed_at=T0 + timedelta(hours=1),
        deployed_by="U00000OPS",
    )
    return replace(base, **fields)  # type: ignore[arg-type]


DIGEST = {
    "release": 3,
    "name": "LUMINES 1.0.0",
    "phase": "first_hour",
    "title": "Immediate (First Hour)",
    "start": (T0 + timedelta(hours=1)).isoformat(),
    "end": (T0 + timedelta(hours=2)).isoformat(),
    "late": False,
    "next": "Extended (First 24 Hours)",
    "items": [
        {"id": "error_rate", "title": "Error rate < 0.1%", "manual": False, "runs": 6,
         "passed": 6, "worst": "highest 0.0004", "last_status": "pass", "last_reason": "ok"},
        {"id": "response_time_p95", "title": "Response time p95 < 500ms", "manual": False,
         "runs": 6, "passed": 5, "worst": "highest 0.61", "last_status": "pass",
         "last_reason": "0.21 < 0.5"},
    ],
    "breaches": [
        {"item": "Response time p95 < 500ms", "opened_at": (T0 + timedelta(hours=1)).isoformat(),
         "recovered_at": (T0 + timedelta(minutes=80)).isoformat(), "reason": "0.61 >= 0.5",
         "acknowledged_by": "U00000OPS", "rolled_back_by": None},
    ],
}  # fmt: skip


def decode_digest(data: dict[str, object]) -> Digest:
    notice = decode("digest", data)
    assert isinstance(notice, Digest)
    return notice


def document(
    state: ReleaseState = ReleaseState.MONITORING,
    signed: list[Signature] | None = None,
    rejections: list[Rejection] | None = None,
    names: dict[str, str] | None = None,
    **fields: object,
) -> SignoffDocument:
    results, ticks = passing()
    rel = release(state, **fields)
    view = build_view(APP, rel, signatures() if signed is None else signed, rejections or [],
                      results, ticks, None)  # fmt: skip
    return SignoffDocument(
        view=view,
        checklist_version=APP.version,
        generated_at=T0 + timedelta(hours=2, minutes=5),
        audit=AuditHead(HEAD, 42),
        phases=tuple(APP.post_deploy.phases),
        post_items=tuple(APP.post_deploy.items),
        digests=(digest_record(decode_digest(DIGEST), T0 + timedelta(hours=2)),),
        alerts=(
            Breach(
                "response_time_p95",
                T0 + timedelta(hours=1),
                "0.61 >= 0.5",
                T0 + timedelta(minutes=80),
                "U00000OPS",
            ),
        ),
        names=NAMES if names is None else names,
    )


def html(markdown: str) -> str:
    return MarkdownIt("commonmark").enable(["table", "strikethrough"]).render(markdown)


def headings(markdown: str) -> list[str]:
    return [line for line in markdown.splitlines() if line.startswith("#")]


def test_every_heading_of_the_seed_is_there_in_its_place() -> None:
    rendered = headings(render_markdown(document()))
    for seed in SEED_HEADINGS:
        assert any(line.removesuffix(" ✅") == seed for line in rendered), f"{seed!r} missing"
    assert "### Current Status: 🟢 **100% PRODUCTION READY**" in rendered
    order = [h.split(" ", 2)[1] for h in rendered if re.match(r"## \d+\.", h)]
    assert order == [f"{n}." for n in range(1, 13)]


def test_every_item_is_a_checkbox_with_its_state_and_reason() -> None:
    results, ticks = passing()
    results["health_db"] = LatestResult("health_db", ItemStatus.FAIL, "answered 503", T0)
    del ticks["cluster_operational"]
    doc = document(ReleaseState.OPEN, signed=[], deployed_at=None)
    view = build_view(APP, doc.view.release, [], [], results, ticks, None)
    markdown = render_markdown(replace(doc, view=view))
    for item in APP.items:
        assert f"] {md(item.title)} — " in markdown, item.title
    assert "- [ ] Database health endpoint: /api/health/db — **fail**: answered 503 (" in markdown
    assert "- [ ] Cluster operational — **pending**: not ticked yet" in markdown
    assert "- [x] All nodes healthy — **pass**: nodes\\_healthy answered 200" in markdown
    assert "- [x] Ingress configured — **ticked** by `U00000OPS` (2026-12-01 08:00 UTC)" in (
        markdown
    )
    assert "_(non-blocking)_" in markdown
    assert "**Status:** ❌ **3/4 PASSING**" in markdown  # 1.3 Health Checks
    assert "## 1. Infrastructure Readiness\n" in markdown  # no ✅ while an item fails
    assert "## 2. Application Readiness ✅" in markdown


def test_signature_blocks_are_filled_like_the_seeds() -> None:
    markdown = render_markdown(document())
    block = markdown.split("**Engineering Lead:**", 1)[1].split("**DevOps Lead:**")[0]
    assert "- [x] Code review completed" in block
    assert "- **Name:** Ada Lovelace (`U00000ENG`)" in block
    assert "- **Signature:** ✅ signed in Slack by `U00000ENG` on ref `abc123`" in block
    assert "**Date:** 2026-12-01 08:01 UTC" in block
    final = markdown.split("### 9.2 Final Approval", 1)[1].split("### 9.3")[0]
    assert "**CTO/Engineering Manager:**" in final and "Grace Hopper (`U00000CTO`)" in final
    for user in SIGNERS.values():
        assert f"`{user}`" in markdown
    unsigned = render_markdown(document(ReleaseState.OPEN, signed=[], deployed_at=None))
    assert unsigned.count("- **Signature:** _________________ **Date:** ___________") == 5
    assert "- [ ] All approvals received" in unsigned


def test_section_10_is_filled() -> None:
    markdown = render_markdown(document())
    section = markdown.split("## 10. Deployment Authorization", 1)[1].split("## 11.")[0]
    assert "**Approved for Production Deployment:** ☑ Yes ☐ No" in section
    assert "- [x] All required approvals received" in section
    assert "**Deployment Window:** 2026-12-01 09:00 UTC – 2026-12-01 11:00 UTC" in section
    assert "**Deployment Team:** `U00000OPS`" in section
    assert "> helm rollback lumines \\</div> \\*\\*now\\*\\*" in section
    assert "**Deployed:** 2026-12-01 09:00 UTC by `U00000OPS`" in section
    pending = render_markdown(
        document(ReleaseState.OPEN, signed=signatures()[:2], deployed_at=None, approved_at=None)
    )
    section = pending.split("## 10. Deployment Authorization", 1)[1].split("## 11.")[0]
    assert "**Status:** ⏳ **PENDING APPROVAL**" in section
    assert "☐ Yes ☑ No" in section and "- waiting for Security Lead, Product Owner" in section


def test_stale_signatures_rejections_digests_alerts_and_the_audit_head() -> None:
    stale = Signature(9, "engineering_lead", "U00000EN2", T0, (), None, evidence("old"))
    rejected = Rejection(1, "U00000SEC", "Not <@U00000ENG>'s call **yet**", T0)
    markdown = render_markdown(
        document(ReleaseState.BLOCKED, signed=[*signatures()[1:], stale], rejections=[rejected])
    )
    assert "- Engineering Lead: `U00000EN2`, signed 2026-12-01 08:00 UTC; no longer counts" in (
        markdown
    )
    assert "> Not <@U00000ENG>'s call" not in markdown  # the reason is escaped
    assert "rejected by @Ada Lovelace (U00000ENG)" not in markdown
    assert "> Not \\<@U00000ENG>'s call \\*\\*yet\\*\\*" in markdown
    # The reason's words are the rejecter's, literal: a typed mention is not a mention.
    assert "rejected by @U00000SEC: Not \\<@U00000ENG>'s call \\*\\*yet\\*\\*" in markdown
    monitoring = markdown.split("## 11. Post-Deployment Monitoring", 1)[1]
    assert "### 11.1 Immediate (First Hour)" in monitoring
    assert "- [x] Error rate \\< 0.1% — passed 6/6 runs, highest 0.0004" in monitoring
    assert "- [ ] Response time p95 \\< 500ms — passed 5/6 runs, highest 0.61" in monitoring
    assert "**Digest:** 1/2 post-deploy items passed every run, 1 breach(es)" in monitoring
    assert "### 11.2 Extended (First 24 Hours)\n\n_In progress: 2026-12-01 10:00 UTC" in (
        monitoring
    )
    assert "### 11.4 Alerts" in monitoring and "acknowledged by `U00000OPS`" in monitoring
    assert f"**Audit Log Head:** `{HEAD}` (42 events, hash chain verified)" in markdown
    broken = replace(document(), audit=AuditHead(HEAD, 42, "audit event 7: edited"))
    assert "hash chain BROKEN: audit event 7: edited" in render_markdown(broken)


def test_user_text_stays_literal() -> None:
    markdown = render_markdown(
        document(signed=signatures(EVIL), rollback_plan=EVIL, name="R1 **x** </div>")
    )
    rendered = html(markdown)
    assert "<div" not in rendered and "</div>" not in rendered.replace("&lt;/div&gt;", "")
    assert "<script" not in rendered and "<a " not in rendered
    assert "<strong>bold</strong>" not in rendered and "<em>it</em>" not in rendered
    assert "<h1>not a heading</h1>" not in rendered and "<ol>" not in rendered
    assert "<code>tick</code>" not in rendered
    assert "**bold**" in rendered and "&lt;/div&gt;" in rendered and "# not a heading" in rendered
    assert "&amp;lt;b&amp;gt;" in rendered  # the typed entity is shown, not decoded
    assert "R1 **x** &lt;/div&gt;" in rendered


def test_code_spans_and_names() -> None:
    assert code("a`b") == "``a`b``" and code("`x`") == "`` `x` ``"
    assert md("a_b *c* [d] <e> #f") == "a\\_b \\*c\\* \\[d\\] \\<e> \\#f"
    assert export_filename("LUMINES 1.0.0 / beta") == "LUMINES-1.0.0-beta-signoff.md"
    assert document().user_ids[:2] == ["U00000REL", "U00000OPS"]


def test_json_carries_the_same_record() -> None:
    doc = document()
    data = json.loads(json.dumps(render_json(doc)))
    assert data["format"] == "readiness.signoff/1" and data["audit"]["head"] == HEAD
    assert data["release"]["name"] == "LUMINES 1.0.0" and data["release"]["state"] == "monitoring"
    items = [i for s in data["sections"] for i in s["items"]]
    assert [i["id"] for i in items] == [i.id for i in APP.items]
    assert [s["title"] for s in data["sections"]] == [s.title for s in APP.sections]
    signed = {s["role"]: s for r in data["signoff"]["roles"] for s in r["signatures"]}
    assert {role: s["user"] for role, s in signed.items()} == SIGNERS
    assert signed["engineering_lead"]["name"] == "Ada Lovelace"
    assert signed["cto"]["attestations"] == APP.roles["cto"].attestations
    assert data["authorization"]["approved"] is True
    assert data["authorization"]["team"] == [{"user": "U00000OPS", "name": None}]
    phases = data["post_deploy"]["phases"]
    assert [p["id"] for p in phases] == ["first_hour", "first_day", "first_week"]
    assert phases[0]["digest"]["items"][0]["healthy"] is True and phases[1]["digest"] is None
    assert data["post_deploy"]["alerts"][0]["acknowledged_by"]["user"] == "U00000OPS"
