"""`readiness gate`: ask a running bot whether a release may be deployed, and wait for it.

A pipeline's view of GET /api/releases/{name}/gate: approved, not approved (with reasons),
or a problem the pipeline's owner must fix (unreachable, wrong token, unknown release).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import quote, urlencode, urlsplit

import click
import httpx

from bot.cli.common import fail, seconds
from bot.config import ConfigError, load_environment
from checks.durations import format_duration


class GateProblem(Exception):
    """Not an answer about the release: the pipeline is misconfigured or the bot is away."""


class Unreachable(GateProblem):
    """The bot could not be asked (refused, timed out, restarting); worth asking again."""


@dataclass(frozen=True)
class Answer:
    approved: bool
    state: str
    reasons: tuple[str, ...] = ()


def gate_url(base: str, name: str, product: str | None = None) -> str:
    parts = urlsplit(base)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise GateProblem(f"--url: {base!r} is not an http(s) URL")
    query = f"?{urlencode({'product': product})}" if product else ""
    return f"{base.rstrip('/')}/api/releases/{quote(name, safe='')}/gate{query}"


def ask(
    client: httpx.Client, base: str, name: str, token: str, product: str | None = None
) -> Answer:
    """One question to the gate; raises GateProblem (or Unreachable) when it can't answer."""
    url = gate_url(base, name, product)
    try:
        response = client.get(url, headers={"Authorization": f"Bearer {token}"})
    except httpx.HTTPError as exc:
        raise Unreachable(f"cannot reach {base}: {exc or type(exc).__name__}") from None
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        if response.status_code >= 500:
            raise Unreachable(f"{base} answered HTTP {response.status_code}")
        raise GateProblem(
            f"{base} answered HTTP {response.status_code}, not as Readiness does: is --url right?"
        )
    error = str(body.get("error") or "")
    status = response.status_code
    if status == 200 and body.get("approved") is True:
        return Answer(True, str(body.get("state", "approved")))
    if status == 409:
        reasons = body.get("reasons") or []
        return Answer(False, str(body.get("state", "")), tuple(str(r) for r in reasons))
    if status == 401:
        raise GateProblem(f"{base} refused the API token (401): {error}")
    if status == 404:
        raise GateProblem(f"{base}: {error or f'no release named {name!r}'} (404)")
    if status == 400 and body.get("products"):
        products = ", ".join(str(p) for p in body["products"])
        raise GateProblem(f"{base}: {error} (--product: one of {products})")
    if status >= 500:
        raise Unreachable(f"{base} answered HTTP {status}: {error}")
    raise GateProblem(f"{base} answered HTTP {status}: {error}")


def wait(
    question: Callable[[], Answer],
    timeout: float,
    interval: float,
    say: Callable[[str], None],
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> Answer:
    """Ask until approved or `timeout` seconds passed; says what changed as it waits.

    An unreachable bot (a restart, a blip) is asked again; at the timeout that is the
    problem raised. Any other problem (token, unknown release) ends the wait at once.
    """
    started = clock()
    total = format_duration_s(timeout)
    said: tuple[str, ...] | None = None
    last: Answer | None = None
    while True:
        elapsed = clock() - started
        progress = f"[{format_duration_s(elapsed)} of {total}]"
        try:
            last = question()
        except Unreachable as exc:
            last = None
            if elapsed >= timeout:
                raise
            say(f"{progress} {exc}; asking again")
        else:
            if last.approved:
                return last
            if last.reasons != said:
                say(f"{progress} not approved yet ({last.state}): " + "; ".join(last.reasons))
                said = last.reasons
            else:
                say(f"{progress} still waiting ({last.state})")
            if elapsed >= timeout:
                return last
        sleep(max(0.0, min(interval, timeout - (clock() - started))))


def format_duration_s(seconds: float) -> str:
    return format_duration(timedelta(seconds=round(max(seconds, 0))))


@click.command()
@click.argument("release", nargs=-1, required=True)
@click.option("--url", default=None, help="The bot (default: $READINESS_URL or localhost:$PORT).")
@click.option("--token", default=None, help="API token (default: $READINESS_API_TOKEN).")
@click.option(
    "--wait", "keep_asking", is_flag=True, help="Ask again until approved or --timeout passes."
)
@click.option("--timeout", default="30m", show_default=True, callback=seconds)
@click.option("--interval", default="10s", show_default=True, callback=seconds)
@click.option("--product", default=None, help="The release's product (its id).")
def gate(
    release: tuple[str, ...],
    url: str | None,
    token: str | None,
    keep_asking: bool,
    timeout: float,
    interval: float,
    product: str | None,
) -> None:
    """Exit 0 if RELEASE is approved for production deployment.

    For example `readiness gate LUMINES 1.0.0`.

    Exits 0 when it is, 1 when not (printing why), 2 when the bot can't be asked (no token,
    refused, unreachable, unknown release). With --wait it asks every --interval until
    approved or --timeout passes.
    """
    try:
        env = load_environment()
    except ConfigError as exc:
        fail(exc.problems)
    name = " ".join(release)
    base = url or env.readiness_url or f"http://localhost:{env.port}"
    secret = token or env.readiness_api_token
    if not secret:
        fail(["no API token: give --token or set READINESS_API_TOKEN"])
    with httpx.Client(timeout=10.0) as client:

        def question() -> Answer:
            return ask(client, base, name, secret, product)

        try:
            if keep_asking:
                answer = wait(question, timeout, interval, click.echo)
            else:
                answer = question()
        except GateProblem as exc:
            fail([str(exc)])
    if answer.approved:
        click.echo(f"{name} is approved for production deployment")
        sys.exit(0)
    waited = f" after waiting {format_duration_s(timeout)}" if keep_asking else ""
    click.echo(f"{name} is not approved for production deployment{waited} ({answer.state}):")
    for reason in answer.reasons:
        click.echo(f"  - {reason}")
    sys.exit(1)
