"""The pipeline API over HTTP (SPEC 3.5): bearer auth, the gate following the release to
approved and to suspended, `readiness gate --wait`, CI results on the card, deployed via
the API; and an API that refuses everything when no token is set."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
import yaml

from bot.fake_slack import FakeSlackThread
from tests.databases import Databases
from tests.scenario.conftest import Slack, approve_all_but_final
from tests.scenario.harness import ROOT, Bot, ThreadedTarget

TOKEN = "s3cret-api-token"


@pytest.fixture(scope="module")
def bot(
    fake: FakeSlackThread,
    target: ThreadedTarget,
    module_databases: Databases,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Bot]:
    """The scenario bot with the API enabled."""
    tmp = tmp_path_factory.mktemp("api")
    running = Bot(fake, target, tmp, module_databases.url(tmp), READINESS_API_TOKEN=TOKEN).start()
    yield running
    running.stop()


def path(name: str, tail: str = "") -> str:
    return f"/api/releases/{quote(name, safe='')}{tail}"


def open_release(slack: Slack, name: str) -> None:
    assert f"Opened *{name}*" in slack.command("UREL", f"new {name} ref=abc123")
    slack.checks_done(name)
    slack.wait_card(name, "Readiness")


def approve(slack: Slack, name: str) -> None:
    approve_all_but_final(slack, name)
    response = slack.sign("UCTO", name, "cto")
    assert response.status_code == 200 and not response.text, response.text
    slack.wait_card(name, "Approved for production deployment")


def recheck(slack: Slack, name: str) -> None:
    slack.command("UREL", f"check {name}")
    slack.checks_done(name)


def gate_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "bot", "gate", *args]


def gate_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("READINESS_")}
    env.pop("PORT", None)
    return {**env, **extra}


def test_every_call_needs_the_token(bot: Bot, api: httpx.Client, slack: Slack, name: str) -> None:
    open_release(slack, name)
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {TOKEN}"}):
        for method, tail in (("GET", ""), ("GET", "/gate"), ("POST", "/deployed")):
            response = httpx.request(method, bot.url + path(name, tail), headers=headers)
            assert response.status_code == 401, (headers, tail, response.text)
            assert response.headers["WWW-Authenticate"].startswith("Bearer")
            assert "error" in response.json()
    assert httpx.get(bot.url + "/api/nothing").status_code == 401

    missing = api.get(path("NO SUCH 9.9.9", "/gate"))
    assert missing.status_code == 404
    assert missing.json() == {"error": "no release named 'NO SUCH 9.9.9'"}
    assert api.get("/api/nothing").status_code == 404
    assert api.get(path(name, "/deployed")).status_code == 405
    broken = api.post(path(name, "/results"), content=b"{not json")
    assert broken.status_code == 400 and "not valid JSON" in broken.json()["error"]
    listed = api.post(path(name, "/results"), json=["a list"])
    assert listed.status_code == 400 and "JSON object" in listed.json()["error"]


def test_release_as_json(api: httpx.Client, slack: Slack, name: str) -> None:
    odd = f"{name}/web#2+rc"  # a name that must be URL-encoded in the path
    open_release(slack, odd)
    assert slack.sign("UENG", odd, "engineering_lead", comment="LGTM").status_code == 200
    slack.wait_card(odd, "<@UENG>")
    response = api.get(path(odd))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["name"] == odd and body["ref"] == "abc123" and body["state"] == "open"
    assert 0 < body["readiness"] < 100
    assert body["authorization"]["approved"] is False
    assert any("waiting for" in r for r in body["authorization"]["reasons"])
    health = next(i for i in body["items"] if i["id"] == "health_app")
    assert health["status"] == "pass" and health["automated"] and health["section"]
    manual = next(i for i in body["items"] if i["id"] == "cluster_operational")
    assert manual["status"] == "pending" and not manual["automated"]
    lead = next(r for r in body["roles"] if r["id"] == "engineering_lead")
    assert lead["complete"] and lead["signatures"][0]["user"] == "UENG"
    assert lead["signatures"][0]["comment"] == "LGTM"
    assert len(lead["signatures"][0]["attestations"]) == 4
    assert body["deployment"]["deployed_at"] is None and body["stale"] == []


def test_gate_follows_the_release_to_approved_and_to_suspended(
    api: httpx.Client, slack: Slack, target: ThreadedTarget, name: str
) -> None:
    open_release(slack, name)
    gate = api.get(path(name, "/gate"))
    assert gate.status_code == 409
    assert gate.json()["approved"] is False
    assert any(r.startswith("waiting for") for r in gate.json()["reasons"])

    approve_all_but_final(slack, name)
    gate = api.get(path(name, "/gate"))
    assert gate.status_code == 409
    assert gate.json()["reasons"] == ["no final approval by CTO/Engineering Manager"]

    assert slack.sign("UCTO", name, "cto").status_code == 200
    gate = api.get(path(name, "/gate"))
    assert gate.status_code == 200, gate.text
    assert gate.json() == {
        "approved": True,
        "release": name,
        "state": "approved",
        "ref": "abc123",
        "approved_at": gate.json()["approved_at"],
    }

    target.state.broken.add("db")
    try:
        recheck(slack, name)
        gate = api.get(path(name, "/gate"))
        assert gate.status_code == 409
        reasons = gate.json()["reasons"]
        assert reasons[0].startswith("suspended"), reasons
        assert any("PostgreSQL deployed and healthy" in r for r in reasons)  # titles, not ids
        (failing,) = [d for d in gate.json()["reasons_detail"] if d["kind"] == "blocking_items"]
        assert {"id": "postgres_healthy", "title": "PostgreSQL deployed and healthy"} in (
            failing["items"]
        )
        assert gate.json()["state"] == "suspended"
    finally:
        target.state.broken.discard("db")
    recheck(slack, name)
    assert api.get(path(name, "/gate")).status_code == 200


def test_gate_command_waits_for_the_last_signature(bot: Bot, slack: Slack, name: str) -> None:
    open_release(slack, name)
    approve_all_but_final(slack, name)
    args = [name, "--url", bot.url, "--token", TOKEN]

    now = subprocess.run(
        gate_command(*args), env=gate_env(), capture_output=True, text=True, timeout=30
    )
    assert now.returncode == 1, now.stderr
    assert f"{name} is not approved for production deployment" in now.stdout
    assert "no final approval by CTO/Engineering Manager" in now.stdout

    waiting = subprocess.Popen(
        gate_command(name, "--wait", "--timeout", "60s", "--interval", "200ms"),
        env=gate_env(READINESS_URL=bot.url, READINESS_API_TOKEN=TOKEN),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    try:
        assert waiting.stdout is not None
        first = waiting.stdout.readline()  # it asked, and is waiting
        assert "not approved yet" in first, first + (
            waiting.stderr.read() if waiting.stderr else ""
        )
        assert waiting.poll() is None
        assert slack.sign("UCTO", name, "cto").status_code == 200
        out, err = waiting.communicate(timeout=30)
    finally:
        if waiting.poll() is None:
            waiting.kill()
    assert waiting.returncode == 0, first + out + err
    assert f"{name} is approved for production deployment" in out


def test_gate_command_says_what_is_wrong_with_exit_2(bot: Bot, name: str) -> None:
    cases = [
        ([name, "--url", bot.url, "--token", "wrong"], "refused the API token (401)"),
        (["NO SUCH 9.9.9", "--url", bot.url, "--token", TOKEN], "no release named"),
        ([name, "--url", "http://127.0.0.1:9", "--token", TOKEN], "cannot reach"),
        ([name, "--url", bot.url], "no API token"),
        ([name, "--url", bot.url, "--token", TOKEN, "--timeout", "soon"], "bad duration"),
    ]
    for args, said in cases:
        run = subprocess.run(
            gate_command(*args), env=gate_env(), capture_output=True, text=True, timeout=30
        )
        assert run.returncode == 2, (args, run.stdout, run.stderr)
        assert said in run.stderr, (args, run.stderr)


def push(api: httpx.Client, name: str, **result: Any) -> httpx.Response:
    return api.post(path(name, "/results"), json=result)


def test_a_pushed_ci_result_shows_on_the_card_and_counts(
    bot: Bot, api: httpx.Client, slack: Slack, name: str
) -> None:
    open_release(slack, name)
    pushed = push(
        api,
        name,
        item="unit_ci_passing",
        status="fail",
        reason="3 tests failed in pipeline 4711",
        values={"failed": 3, "passed": 412},
        url="https://ci.example.com/run/4711",
    )
    assert pushed.status_code == 201, pushed.text
    shown = pushed.json()["item"]
    assert (shown["id"], shown["status"], shown["latest"]) == ("unit_ci_passing", "fail", "fail")
    assert shown["reason"] == "3 tests failed in pipeline 4711" and shown["waiver"] is None
    slack.wait_card(name, "3 tests failed in pipeline 4711")
    item = next(i for i in api.get(path(name)).json()["items"] if i["id"] == "unit_ci_passing")
    assert item == shown  # the item as GET shows it
    assert api.get(path(name, "/gate")).status_code == 409

    ((run_id, values),) = bot.sql(
        "SELECT run_id, \"values\" FROM check_results WHERE item_id = 'unit_ci_passing' "
        "ORDER BY id DESC LIMIT 1"
    )
    (audited,) = bot.sql(
        "SELECT actor, data FROM audit_events WHERE kind = 'checks.external' "
        "ORDER BY id DESC LIMIT 1"
    )
    assert run_id is None
    assert json.loads(values) == {
        "failed": 3,
        "passed": 412,
        "url": "https://ci.example.com/run/4711",
    }
    assert audited[0] == "api" and "https://ci.example.com/run/4711" in audited[1]

    fixed = push(api, name, item="unit_ci_passing", status="pass", reason="415 tests passed")
    assert fixed.status_code == 201
    slack.wait_card(name, "Readiness")
    item = next(i for i in api.get(path(name)).json()["items"] if i["id"] == "unit_ci_passing")
    assert item["status"] == "pass"


def test_bad_results_are_refused_with_what_is_wrong(
    api: httpx.Client, slack: Slack, name: str
) -> None:
    open_release(slack, name)
    good = {"item": "unit_ci_passing", "status": "pass"}
    cases = [
        ({**good, "item": "no_such_item"}, "no checklist item 'no_such_item'"),
        ({**good, "status": "green"}, "status"),
        ({**good, "reason": "x" * 501}, "reason"),
        ({**good, "url": "ftp://ci.example.com/run/1"}, "url"),
        ({**good, "values": {"log": "x" * 11_000}}, "values"),
        ({**good, "extra": 1}, "extra: unknown field"),
        ({"status": "pass"}, "item"),
        ({**good, "item": "cluster_operational"}, "ticked by a person"),
    ]
    for body, said in cases:
        response = api.post(path(name, "/results"), json=body)
        assert response.status_code == 422, (body, response.text)
        assert said in response.json()["error"], (body, response.text)
    huge = api.post(path(name, "/results"), content=b" " * 70_000)
    assert huge.status_code == 413


def test_deployed_via_the_api(api: httpx.Client, slack: Slack, name: str) -> None:
    open_release(slack, name)
    early = api.post(path(name, "/deployed"), json={"by": "ci-pipeline"})
    assert early.status_code == 409
    assert "not approved for production deployment" in early.json()["error"]

    approve(slack, name)
    assert api.post(path(name, "/deployed"), json={"by": "<!channel>"}).status_code == 422
    response = api.post(path(name, "/deployed"), json={"by": "ci-pipeline"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["state"] in ("deployed", "monitoring")
    assert body["deployment"]["deployed_by"] == "ci-pipeline"
    assert body["deployment"]["deployed_at"]
    slack.wait_thread(name, f"*{name}* marked deployed via the API (by ci-pipeline)")
    slack.wait_card(name, "Deployed")

    again = api.post(path(name, "/deployed"))
    assert again.status_code == 409 and "already marked deployed" in again.json()["error"]
    assert api.get(path(name, "/gate")).status_code == 200
    late = push(api, name, item="unit_ci_passing", status="fail")
    assert late.status_code == 409 and "no longer checked" in late.json()["error"]


def test_without_a_token_the_api_refuses_everything(
    fake: FakeSlackThread, target: ThreadedTarget, databases: Databases, tmp_path: Path
) -> None:
    closed = Bot(fake, target, tmp_path, databases.url(tmp_path), READINESS_API_TOKEN="").start()
    try:
        for method, tail in (
            ("GET", path("LUMINES 1.0.0")),
            ("GET", path("LUMINES 1.0.0", "/gate")),
            ("POST", path("LUMINES 1.0.0", "/deployed")),
            ("POST", path("LUMINES 1.0.0", "/results")),
            ("GET", "/api/anything"),
        ):
            for headers in ({}, {"Authorization": "Bearer"}, {"Authorization": "Bearer x"}):
                response = httpx.request(method, closed.url + tail, headers=headers)
                assert response.status_code == 401, (tail, response.text)
                assert response.json() == {"error": "the API is disabled: set READINESS_API_TOKEN"}
        assert httpx.get(closed.url + "/healthz").status_code == 200
    finally:
        closed.stop()


def github_step(name: str) -> str:
    workflow = yaml.safe_load((ROOT / "docs" / "ci" / "github-actions.yml").read_text())
    steps = [s for job in workflow["jobs"].values() for s in job["steps"]]
    return str(next(s["run"] for s in steps if s.get("name", "").startswith(name)))


@pytest.mark.skipif(shutil.which("curl") is None, reason="the documented steps use curl")
def test_the_documented_github_steps_work(bot: Bot, slack: Slack, name: str) -> None:
    env = gate_env(
        RELEASE=name,
        READINESS_URL=bot.url,
        READINESS_API_TOKEN=TOKEN,
        GITHUB_SERVER_URL="https://github.com",
        GITHUB_REPOSITORY="lumines/lumines",
        GITHUB_RUN_ID="42",
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
    )

    def step(title: str, outcome: str = "success") -> subprocess.CompletedProcess[str]:
        script = github_step(title).replace("${{ steps.tests.outcome }}", outcome)
        return subprocess.run(
            ["bash", "-euo", "pipefail", "-c", script],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )

    open_release(slack, name)
    reported = step("Report the result", outcome="failure")
    assert reported.returncode == 0, reported.stderr
    slack.wait_card(name, "tests: failure")
    assert step("Report the result").returncode == 0
    approve(slack, name)
    gated = step("Wait for the production-readiness sign-off")
    assert gated.returncode == 0, gated.stdout + gated.stderr
    assert f"{name} is approved for production deployment" in gated.stdout
    told = step("Tell Readiness it is deployed")
    assert told.returncode == 0, told.stdout + told.stderr
    slack.wait_thread(name, "marked deployed via the API (by github-actions run 42)")


SLACK_SYNTAX = ("<@", "<!", "<#", "`")


def test_reasons_are_plain_words_naming_people_and_items(
    api: httpx.Client, bot: Bot, slack: Slack, name: str
) -> None:
    """A stale signature, a rejection and the blocking items: the card mentions people live;
    the gate API and `readiness gate` say it in plain words, items by title, "and N more"."""
    open_release(slack, name)
    assert slack.sign("UENG", name, "engineering_lead").status_code == 200
    slack.wait_card(name, "<@UENG>")
    card = slack.card(name)
    menu = next(
        e
        for b in card.blocks
        if b["type"] == "actions"
        for e in b["elements"]
        if e["type"] == "overflow"
    )
    reject = next(o["value"] for o in menu["options"] if '"reject"' in o["value"])
    view = slack.open_modal("USEC", name, "more", value=reject)
    submitted = slack.driver.submit("USEC", view, {"reason": "Pen test `pending` <!here>"})
    assert submitted.status_code == 200 and not submitted.text
    assert "Moved" in slack.command("UREL", f"new {name} ref=def456")
    shown = slack.wait_card(name, "signature is stale")
    assert "<@UENG>'s signature is stale: the ref changed from `abc123` to `def456`" in shown
    assert "&lt;@UENG&gt;" not in shown

    gate = api.get(path(name, "/gate")).json()
    reasons = gate["reasons"]
    assert not [
        r
        for r in reasons
        if any(mark in r.replace("`pending` <!here>", "") for mark in SLACK_SYNTAX)
    ]
    assert "rejected by @USEC: Pen test `pending` <!here>" in reasons  # their words, as typed
    assert (
        "the signature of @UENG as Engineering Lead is stale "
        "(the ref changed from abc123 to def456)"
    ) in reasons
    (items,) = [r for r in reasons if "blocking item(s) not passing" in r]
    detail = next(d for d in gate["reasons_detail"] if d["kind"] == "blocking_items")
    titles = [i["title"] for i in detail["items"]]
    assert len(titles) > 10
    assert items == (
        f"{len(titles)} blocking item(s) not passing: "
        + ", ".join(titles[:10])
        + f" and {len(titles) - 10} more"
    )
    stale = next(d for d in gate["reasons_detail"] if d["kind"] == "stale_signature")
    assert stale["user"] == "UENG" and stale["staleness"] == {
        "cause": "ref",
        "old": "abc123",
        "new": "def456",
    }

    printed = subprocess.run(
        gate_command(name, "--url", bot.url, "--token", TOKEN),
        env=gate_env(),
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert printed.returncode == 1, printed.stderr
    assert "  - the signature of @UENG as Engineering Lead is stale" in printed.stdout
    said = printed.stdout.replace("`pending` <!here>", "")
    assert not [mark for mark in SLACK_SYNTAX if mark in said], printed.stdout
