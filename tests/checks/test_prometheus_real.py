"""prometheus and alertmanager checks against a real Prometheus and Alertmanager.

The servers (tests/checks/servers.py) start once per session; Prometheus's first scrape
and first alert delivery take ~6 s, so the tests that need them poll with a deadline.
"""

from __future__ import annotations

import json
import socket
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError
from servers import Monitoring, alert_arrived, eventually, scraped
from servers import monitoring_fixture as monitoring_fixture  # the `monitoring` fixture
from standins import REGISTRY, run_one

from checks import CheckContext, CheckResult, Status


async def prometheus(
    ctx: CheckContext, url: str, query: str, op: str, threshold: float
) -> CheckResult:
    """The prometheus check at URL: every sample of QUERY must be OP THRESHOLD."""
    return await run_one(ctx, type="prometheus", url=url, query=query, op=op, threshold=threshold)


def refused_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


# --- prometheus -------------------------------------------------------------------------


async def test_every_sample_meeting_the_threshold_passes(
    monitoring: Monitoring, ctx: CheckContext
) -> None:
    await scraped(ctx.http, monitoring.prometheus, "lumines")
    await scraped(ctx.http, monitoring.prometheus, "prometheus")
    up = await prometheus(ctx, monitoring.prometheus, "up", "==", 1)
    assert up.status is Status.PASS, up.reason
    assert up.reason == "2 samples == 1"
    assert up.values["count"] == 2
    assert up.values["samples"][f'up{{instance="{monitoring.target}",job="lumines"}}'] == 1
    errors = await prometheus(
        ctx, monitoring.prometheus + "/", 'lumines_http_error_ratio{route!="/api/sign"}', "<", 0.001
    )
    assert errors.status is Status.PASS, errors.reason
    assert errors.reason == "2 samples < 0.001 (worst 0.0004)"
    assert errors.values["worst"] == 0.0004
    scalar = await prometheus(ctx, monitoring.prometheus, "1 + 1", ">=", 2)
    assert scalar.status is Status.PASS and scalar.reason == "1 sample >= 2 (2)"


async def test_failing_series_are_named_with_their_values(
    monitoring: Monitoring, ctx: CheckContext
) -> None:
    await scraped(ctx.http, monitoring.prometheus, "lumines")
    result = await prometheus(ctx, monitoring.prometheus, "lumines_http_error_ratio", "<", 0.0001)
    assert result.status is Status.FAIL
    sign = f'lumines_http_error_ratio{{instance="{monitoring.target}",job="lumines",route='
    assert result.reason == (
        f'2 of 3 samples not < 0.0001: {sign}"/api/sign"}} = 0.25, {sign}"/api/releases"}} = 0.0004'
    )  # the worst first
    assert result.values["worst"] == 0.25 and result.values["count"] == 3


async def test_a_firing_alert_fails_a_query_on_alerts(
    monitoring: Monitoring, ctx: CheckContext
) -> None:
    async def firing() -> CheckResult | None:
        got = await prometheus(
            ctx, monitoring.prometheus, 'ALERTS{alertstate="firing",severity="critical"}', "<", 1
        )
        return None if got.status is Status.ERROR else got  # no samples before a first eval

    result = await eventually("a first rule evaluation", firing)
    assert result.status is Status.FAIL
    assert result.reason == (
        '1 of 1 sample not < 1: ALERTS{alertname="AlwaysFiring",alertstate="firing",'
        'severity="critical",team="platform"} = 1'
    )


async def test_no_samples_is_an_error(monitoring: Monitoring, ctx: CheckContext) -> None:
    result = await prometheus(ctx, monitoring.prometheus, 'up{job="no-such-job"}', "==", 1)
    assert result.status is Status.ERROR
    assert result.reason == "the query returned no samples"


async def test_nan_is_an_error_unless_another_sample_fails(
    monitoring: Monitoring, ctx: CheckContext
) -> None:
    await scraped(ctx.http, monitoring.prometheus, "lumines")
    idle = await prometheus(ctx, monitoring.prometheus, "lumines_http_p95_seconds", "<", 0.5)
    assert idle.status is Status.ERROR
    assert idle.reason.startswith("1 of 2 samples is NaN (no data?): lumines_http_p95_seconds{")
    assert idle.reason.endswith('route="/api/idle"} = NaN')
    assert "NaN" in idle.values["samples"].values()  # JSON has no NaN: spelled as Prometheus does
    json.dumps(idle.values, allow_nan=False)
    assert idle.values["worst"] == 0.012
    slow = await prometheus(ctx, monitoring.prometheus, "lumines_http_p95_seconds", "<", 0.01)
    assert slow.status is Status.FAIL and 'route="/api/health"} = 0.012' in slow.reason
    ratio = await prometheus(ctx, monitoring.prometheus, "vector(0) / 0", "<", 1)
    assert (
        ratio.status is Status.ERROR and ratio.reason == "1 of 1 sample is NaN (no data?): {} = NaN"
    )
    infinite = await prometheus(ctx, monitoring.prometheus, "1 / 0", "<", 1)
    assert infinite.status is Status.FAIL
    assert infinite.reason == "1 of 1 sample not < 1: scalar = +Inf"
    assert infinite.values["worst"] == "+Inf"


async def test_bad_promql_carries_prometheus_message(
    monitoring: Monitoring, ctx: CheckContext
) -> None:
    result = await prometheus(
        ctx, monitoring.prometheus, "sum(rate(lumines_http_requests_total[5m])", "<", 1
    )
    assert result.status is Status.ERROR
    assert result.reason == (
        'Prometheus refused the query (bad_data): invalid parameter "query": '
        "1:42: parse error: unclosed left parenthesis"
    )
    assert result.values == {"status": 400}


async def test_execution_errors_and_range_vectors_are_errors(
    monitoring: Monitoring, ctx: CheckContext
) -> None:
    await scraped(ctx.http, monitoring.prometheus, "lumines")
    await scraped(ctx.http, monitoring.prometheus, "prometheus")
    many = await prometheus(ctx, monitoring.prometheus, "up + on() up", "<", 9)
    assert many.status is Status.ERROR
    assert many.reason.startswith("Prometheus refused the query (execution): ")
    assert "many-to-many matching not allowed" in many.reason
    assert many.values == {"status": 422}
    ranged = await prometheus(ctx, monitoring.prometheus, "up[1m]", "==", 1)
    assert ranged.status is Status.ERROR
    assert ranged.reason == "the query returned a range vector: drop the [range] selector"
    text = await prometheus(ctx, monitoring.prometheus, '"ok"', "==", 1)
    assert text.reason == "the query returned a string, not a number"


async def test_prometheus_unreachable_or_wrong_url(
    monitoring: Monitoring, ctx: CheckContext
) -> None:
    refused = await prometheus(ctx, refused_url(), "up", "==", 1)
    assert refused.status is Status.ERROR
    assert refused.reason.startswith("GET /api/v1/query?query=up: connection refused by 127.0.0.1:")
    wrong = await prometheus(ctx, monitoring.prometheus + "/prometheus", "up", "==", 1)
    assert wrong.status is Status.ERROR
    assert wrong.reason == "Prometheus answered 404 Not Found without JSON"


async def test_app_yaml_alert_rules_item_against_real_rules(
    monitoring: Monitoring, ctx: CheckContext
) -> None:
    # app.yaml's prometheus_alert_rules / alerting_rules items: an http check on /api/v1/rules.
    result = await run_one(
        ctx,
        type="http",
        url=f"{monitoring.prometheus}/api/v1/rules?type=alert",
        expect_json={"status": "success"},
        expect_body='"type": ?"alerting"',
    )
    assert result.status is Status.PASS, result.reason


# --- alertmanager -----------------------------------------------------------------------


async def test_a_critical_alert_firing_fails(monitoring: Monitoring, ctx: CheckContext) -> None:
    await alert_arrived(ctx.http, monitoring.alertmanager, "AlwaysFiring")
    result = await run_one(ctx, type="alertmanager", url=monitoring.alertmanager)
    assert result.status is Status.FAIL
    assert result.reason == "1 critical alert firing: AlwaysFiring"
    assert result.values == {"firing": 1, "alerts": ["AlwaysFiring"]}


async def test_a_severity_without_alerts_passes(monitoring: Monitoring, ctx: CheckContext) -> None:
    await alert_arrived(ctx.http, monitoring.alertmanager, "AlwaysFiring")
    result = await run_one(ctx, type="alertmanager", url=monitoring.alertmanager, severity="page")
    assert result.status is Status.PASS
    assert result.reason == "no page alerts firing"
    assert result.values == {"firing": 0}


async def test_matchers_narrow_the_alerts(monitoring: Monitoring, ctx: CheckContext) -> None:
    await alert_arrived(ctx.http, monitoring.alertmanager, "AlwaysFiring")
    await alert_arrived(ctx.http, monitoring.alertmanager, "DiskFilling")
    url = monitoring.alertmanager
    warning = await run_one(
        ctx, type="alertmanager", url=url, severity="warning", matchers={"team": "platform"}
    )
    assert warning.status is Status.FAIL
    assert warning.reason == '1 warning alert firing matching team="platform": DiskFilling'
    other_team = await run_one(ctx, type="alertmanager", url=url, matchers={"team": "payments"})
    assert other_team.status is Status.PASS
    assert other_team.reason == 'no critical alerts firing matching team="payments"'
    any_severity = await run_one(
        ctx, type="alertmanager", url=url, severity=None, matchers={"team": "platform"}
    )
    assert any_severity.status is Status.FAIL
    assert any_severity.reason == (
        '2 alerts firing matching team="platform": AlwaysFiring, DiskFilling'
    )


async def test_matcher_values_are_quoted_for_alertmanager(
    monitoring: Monitoring, ctx: CheckContext
) -> None:
    # Unescaped, Alertmanager answers 400 "matcher value contains unescaped double quote".
    result = await run_one(
        ctx,
        type="alertmanager",
        url=monitoring.alertmanager,
        matchers={"team": 'the "core" team \\ ops', "alertname": "AlwaysFiring"},
    )
    assert result.status is Status.PASS, result.reason
    with pytest.raises(ValidationError, match="not a label name: 'app-name'"):
        REGISTRY.parse({"type": "alertmanager", "url": "http://am", "matchers": {"app-name": "x"}})


async def test_silenced_alerts_do_not_count(monitoring: Monitoring, ctx: CheckContext) -> None:
    await alert_arrived(ctx.http, monitoring.alertmanager, "NightlyBackupLate")
    before = await run_one(ctx, type="alertmanager", url=monitoring.alertmanager, severity="info")
    assert before.status is Status.FAIL
    assert before.reason == "1 info alert firing: NightlyBackupLate"
    now = datetime.now(UTC)
    silence = {
        "matchers": [{"name": "alertname", "value": "NightlyBackupLate", "isRegex": False}],
        "startsAt": now.isoformat(),
        "endsAt": (now + timedelta(hours=1)).isoformat(),
        "createdBy": "readiness tests",
        "comment": "known: the backup window moved",
    }
    created = await ctx.http.post(f"{monitoring.alertmanager}/api/v2/silences", json=silence)
    assert created.status_code == 200, created.text
    try:
        after = await run_one(
            ctx, type="alertmanager", url=monitoring.alertmanager, severity="info"
        )
        assert after.status is Status.PASS
        assert after.reason == "no info alerts firing"
    finally:
        silence_id = created.json()["silenceID"]
        await ctx.http.delete(f"{monitoring.alertmanager}/api/v2/silence/{silence_id}")


async def test_alertmanager_unreachable_or_wrong_url(
    monitoring: Monitoring, ctx: CheckContext
) -> None:
    refused = await run_one(ctx, type="alertmanager", url=refused_url())
    assert refused.status is Status.ERROR
    assert "/api/v2/alerts?active=true" in refused.reason
    assert "connection refused by 127.0.0.1:" in refused.reason
    prometheus = await run_one(ctx, type="alertmanager", url=monitoring.prometheus)
    assert prometheus.status is Status.ERROR
    assert prometheus.reason == "Alertmanager answered 404 Not Found: 404 page not found"
