"""Issue 16's acceptance: GitHub Actions waits for the sign-off (a deployment protection
rule). The real bot over HTTP, webhooks signed as GitHub signs them, answers sent to a
fake of GitHub's REST API that issues installation tokens only for the app's own JWT."""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.fake_github import FakeGitHubThread, GitHubDriver
from bot.fake_slack import FakeSlackThread
from tests.databases import Databases
from tests.scenario.conftest import Slack, approve_all_but_final
from tests.scenario.harness import CHANNEL, ROOT, Bot, ThreadedTarget

APP_ID, INSTALLATION, SECRET = 4242, 77, "webhook-secret"
REPO, ENVIRONMENT = "acme/lumines", "production"
_runs = itertools.count(9001)
WAIT = 60  # seconds: a card's checks finish first (slower on a busy PostgreSQL)


def config(tmp: Path, target: ThreadedTarget) -> Path:
    """The shipped checklist gating acme/lumines → production; its github_actions checks
    keep asking the LUMINES stand-in (GITHUB_API_URL now names the fake GitHub)."""
    text = (ROOT / "app.yaml").read_text()
    text = text.replace("${GITHUB_API_URL:-https://api.github.com}", f"{target.url}/github")
    text = text.replace("tick: 15s", "tick: 1s")
    path = tmp / "github-app.yaml"  # the harness writes its own app.yaml beside it
    path.write_text(
        text + "\nslack:\n  card_update_interval: 200ms\n  post_interval: 20ms\n"
        f"github:\n  repositories: [{REPO}]\n  environments: [{ENVIRONMENT}]\n"
    )
    return path


@pytest.fixture(scope="module")
def github() -> Iterator[FakeGitHubThread]:
    with FakeGitHubThread() as thread:
        yield thread


@pytest.fixture(scope="module")
def bot(
    fake: FakeSlackThread,
    target: ThreadedTarget,
    github: FakeGitHubThread,
    module_databases: Databases,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Bot]:
    key = github.add_app(APP_ID)
    github.add_installation(INSTALLATION, APP_ID, [REPO])
    tmp = tmp_path_factory.mktemp("github")
    running = Bot(
        fake,
        target,
        tmp,
        module_databases.url(tmp),
        READINESS_CONFIG=str(config(tmp, target)),
        GITHUB_APP_ID=str(APP_ID),
        GITHUB_APP_PRIVATE_KEY=key,
        GITHUB_WEBHOOK_SECRET=SECRET,
        GITHUB_API_URL=github.api_url,
        READINESS_CHANNEL="CRELEASE",
    ).start()
    yield running
    running.stop()


def requested(github: FakeGitHubThread, sha: str) -> tuple[int, dict[str, object]]:
    run_id = next(_runs)
    payload = github.request_protection(
        REPO, ENVIRONMENT, sha, run_id, installation_id=INSTALLATION
    )
    return run_id, payload


def wait(condition: object, timeout: float = 30, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return
        time.sleep(0.1)
    raise AssertionError(f"never happened: {what}")


def test_a_protection_rule_waits_for_the_sign_off_and_is_approved_once(
    fake: FakeSlackThread, github: FakeGitHubThread, bot: Bot
) -> None:
    sha = "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678"
    run_id, payload = requested(github, sha)
    name = f"lumines {sha[:7]}"
    with GitHubDriver(bot.url, SECRET) as hooks:
        forged = hooks.deliver("deployment_protection_rule", payload, secret="not-the-secret")
        assert forged.status_code == 401
        assert bot.sql("SELECT count(*) FROM github_deliveries")[0][0] == 0
        assert bot.sql("SELECT count(*) FROM releases WHERE ref = :sha", sha=sha)[0][0] == 0
        assert hooks.deliver("deployment_protection_rule", payload).status_code == 202
        again = hooks.redeliver()
        assert again.status_code == 202 and again.json()["duplicate"] is True
    slack = Slack(fake, bot)
    card = slack.wait_card(
        name, "GitHub Actions is waiting", f"{REPO} → {ENVIRONMENT}", timeout=WAIT
    )
    assert github.run_url(REPO, run_id) in card
    assert bot.sql("SELECT count(*) FROM releases WHERE ref = :sha", sha=sha)[0][0] == 1
    assert github.reviews(REPO, run_id) == []  # nothing answered before the sign-off
    slack.checks_done(name)
    approve_all_but_final(slack, name)
    assert github.reviews(REPO, run_id) == []
    assert slack.sign("UCTO", name, "cto").status_code == 200
    wait(lambda: github.reviews(REPO, run_id), what="an approved review")
    time.sleep(1.5)  # a tick or two more: nothing is sent twice
    (review,) = github.reviews(REPO, run_id)
    assert review["state"] == "approved" and review["environment_name"] == ENVIRONMENT
    assert review["token"] in {t.token for t in github.tokens_issued()}
    assert name in str(review["comment"]) and "CTO" in str(review["comment"])
    card = slack.wait_card(name, f"Readiness approved: {REPO} → {ENVIRONMENT}", timeout=WAIT)
    assert "sending to GitHub" not in card

    # GitHub deployed it: the release is marked deployed, monitoring starts.
    status = github.deployment_status_payload(REPO, ENVIRONMENT, sha, "success", run_id)
    with GitHubDriver(bot.url, SECRET) as hooks:
        assert hooks.deliver("deployment_status", status).status_code == 202
    wait(
        lambda: (
            bot.sql("SELECT state FROM releases WHERE ref = :sha", sha=sha)[0][0]
            in ("deployed", "monitoring")
        ),
        what="the release marked deployed",
    )
    slack.driver.close()


def test_killed_between_approval_and_the_review_still_answers_once(
    fake: FakeSlackThread, github: FakeGitHubThread, bot: Bot
) -> None:
    sha = "f0e1d2c3b4a5968778695a4b3c2d1e0f12345678"
    run_id, payload = requested(github, sha)
    name = f"lumines {sha[:7]}"
    with GitHubDriver(bot.url, SECRET) as hooks:
        assert hooks.deliver("deployment_protection_rule", payload).status_code == 202
    slack = Slack(fake, bot)
    slack.wait_card(name, "GitHub Actions is waiting", timeout=WAIT)
    slack.checks_done(name)
    approve_all_but_final(slack, name)
    github.fail_next(f"/actions/runs/{run_id}/", status=502, times=1)  # the first try fails
    assert slack.sign("UCTO", name, "cto").status_code == 200
    bot.kill()  # kill -9 between the approval and the review GitHub takes
    slack.driver.close()
    assert github.reviews(REPO, run_id) == []
    again = bot.restarted().start()
    try:
        wait(lambda: github.reviews(REPO, run_id), 60, "the review after the restart")
        time.sleep(2)
        assert [r["state"] for r in github.reviews(REPO, run_id)] == ["approved"]
    finally:
        bot.process = again.process  # the module's fixture stops it


def cancel(slack: Slack, name: str) -> None:
    said = slack.answer("UREL", lambda: slack.driver.command("UREL", f"cancel {name}", CHANNEL))
    assert said == f"Cancelled *{name}*.", said


def test_a_cancelled_release_rejects_the_job_and_a_refusal_shows_on_the_card(
    fake: FakeSlackThread, github: FakeGitHubThread, bot: Bot
) -> None:
    slack = Slack(fake, bot)
    shas = ["0123456789abcdef0123456789abcdef01234567", "89abcdef0123456789abcdef0123456789abcdef"]
    runs = []
    with GitHubDriver(bot.url, SECRET) as hooks:
        for sha in shas:
            run_id, payload = requested(github, sha)
            runs.append(run_id)
            assert hooks.deliver("deployment_protection_rule", payload).status_code == 202
    first, second = (f"lumines {sha[:7]}" for sha in shas)
    slack.wait_card(first, "GitHub Actions is waiting", timeout=WAIT)
    slack.wait_card(second, "GitHub Actions is waiting", timeout=WAIT)
    cancel(slack, first)
    wait(lambda: github.reviews(REPO, runs[0]), what="a rejected review")
    assert [r["state"] for r in github.reviews(REPO, runs[0])] == ["rejected"]
    github.cancel_run(REPO, runs[1])  # the run went away on GitHub's side
    cancel(slack, second)
    card = slack.wait_card(second, "GitHub refused the answer", timeout=WAIT)
    assert "422" in card and github.reviews(REPO, runs[1]) == []
    slack.driver.close()
