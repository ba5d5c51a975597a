"""The fake Slack answers the real slack_sdk client as Slack does, and the driver speaks
to a real Bolt app as Slack does."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from aiohttp import web
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.fake_slack import FakeSlack, FakeSlackThread, SlackDriver, payloads
from tests.fake_slack.conftest import TOKEN

SECRET = "shh-signing-secret"

BUTTONS = [
    {"type": "section", "block_id": "summary", "text": {"type": "mrkdwn", "text": "*r1*: 40%"}},
    {
        "type": "actions",
        "block_id": "act",
        "elements": [
            {
                "type": "button",
                "action_id": "approve",
                "text": {"type": "plain_text", "text": "Approve"},
                "value": "r1",
            },
            {
                "type": "overflow",
                "action_id": "more",
                "options": [
                    {"text": {"type": "plain_text", "text": "Reopen"}, "value": "reopen"},
                    {"text": {"type": "plain_text", "text": "Cancel"}, "value": "cancel"},
                ],
            },
        ],
    },
]


def option(value: str) -> dict[str, Any]:
    return {"text": {"type": "plain_text", "text": value.title()}, "value": value}


def modal(callback_id: str = "signoff", title: str = "Sign off") -> dict[str, Any]:
    def field(block_id: str, element: dict[str, Any], optional: bool = False) -> dict[str, Any]:
        return {
            "type": "input",
            "block_id": block_id,
            "optional": optional,
            "label": {"type": "plain_text", "text": block_id},
            "element": {"action_id": block_id, **element},
        }

    return {
        "type": "modal",
        "callback_id": callback_id,
        "private_metadata": '{"release": 1}',
        "title": {"type": "plain_text", "text": title},
        "submit": {"type": "plain_text", "text": "Sign"},
        "blocks": [
            field(
                "attest",
                {"type": "checkboxes", "options": [option("tests"), option("runbook")]},
                optional=True,
            ),
            field("comment", {"type": "plain_text_input", "multiline": True}),
            field("env", {"type": "static_select", "options": [option("prod"), option("staging")]}),
            field("owner", {"type": "users_select"}, optional=True),
            field("reviewers", {"type": "multi_users_select"}, optional=True),
            field("day", {"type": "datepicker", "initial_date": "2024-05-01"}, optional=True),
            field("at", {"type": "timepicker"}, optional=True),
            field("when", {"type": "datetimepicker"}, optional=True),
        ],
    }


# --- the Web API, through the real AsyncWebClient ----------------------------------------
# (the `fake` and `client` fixtures, a fake and the real client pointed at it: conftest.py)


@pytest.mark.asyncio
async def test_post_then_update_changes_the_stored_message(
    fake: FakeSlack, client: AsyncWebClient
) -> None:
    posted = await client.chat_postMessage(channel="CREL", text="r1", blocks=BUTTONS)
    await client.chat_postMessage(channel="CREL", text="second")
    await client.chat_update(channel="CREL", ts=posted["ts"], text="r1 approved", blocks=[])

    first, second = fake.messages("CREL")
    assert first.ts == posted["ts"] < second.ts
    assert (first.text, first.blocks, first.user) == ("r1 approved", [], "UBOT")
    assert first.edits[0].text == "r1" and first.edits[0].blocks[0]["block_id"] == "summary"
    assert fake.calls("chat.update")[0].args["ts"] == posted["ts"]

    with pytest.raises(SlackApiError) as missing:
        await client.chat_update(channel="CREL", ts="1.000001", text="x")
    assert missing.value.response["error"] == "message_not_found"


@pytest.mark.asyncio
async def test_threads_ephemerals_and_permalinks(fake: FakeSlack, client: AsyncWebClient) -> None:
    parent = await client.chat_postMessage(channel="CREL", text="release r1")
    await client.chat_postMessage(channel="CREL", text="check failed", thread_ts=parent["ts"])
    await client.chat_postEphemeral(channel="CREL", user="U1", text="only you")
    link = await client.chat_getPermalink(channel="CREL", message_ts=parent["ts"])
    replies = await client.conversations_replies(channel="CREL", ts=parent["ts"])

    assert [m.text for m in fake.thread("CREL", parent["ts"])] == ["check failed"]
    assert [m.text for m in fake.messages("CREL")] == ["release r1"]
    assert [m["text"] for m in replies["messages"]] == ["release r1", "check failed"]
    assert fake.ephemerals("U1")[0].text == "only you" and fake.ephemerals("U2") == []
    assert link["permalink"].startswith(fake.base_url)


@pytest.mark.asyncio
async def test_wrong_token_and_unknown_method_are_refused(fake: FakeSlack) -> None:
    wrong = AsyncWebClient(token="xoxb-wrong", base_url=fake.api_url)
    with pytest.raises(SlackApiError) as refused:
        await wrong.chat_postMessage(channel="C1", text="x")
    with pytest.raises(SlackApiError) as unknown:
        await wrong.api_call("chat.teleport")
    assert refused.value.response.status_code == 200
    assert refused.value.response["error"] == "invalid_auth"
    assert unknown.value.response["error"] == "unknown_method"
    assert fake.messages("C1") == []


@pytest.mark.asyncio
async def test_views_open_needs_a_fresh_unused_issued_trigger(
    fake: FakeSlack, client: AsyncWebClient
) -> None:
    trigger = fake.issue_trigger_id("U1")
    opened = await client.views_open(trigger_id=trigger, view=modal())
    view = fake.view(opened["view"]["id"])
    assert view is not None and view.user == "U1" and view.callback_id == "signoff"
    assert opened["view"]["hash"] == view.hash and opened["view"]["id"] == "V0001"

    for trigger_id, error in [
        (trigger, "exchanged_trigger_id"),
        (fake.issue_trigger_id("U1", age=3.5), "expired_trigger_id"),
        ("123.456.made-up", "invalid_trigger_id"),
    ]:
        with pytest.raises(SlackApiError) as refused:
            await client.views_open(trigger_id=trigger_id, view=modal())
        assert refused.value.response["error"] == error


@pytest.mark.asyncio
async def test_views_update_checks_the_hash(fake: FakeSlack, client: AsyncWebClient) -> None:
    opened = await client.views_open(trigger_id=fake.issue_trigger_id("U1"), view=modal())
    view_id, first_hash = opened["view"]["id"], opened["view"]["hash"]
    updated = await client.views_update(
        view_id=view_id, hash=first_hash, view=modal(title="Signed")
    )
    assert updated["view"]["hash"] != first_hash
    with pytest.raises(SlackApiError) as stale:
        await client.views_update(view_id=view_id, hash=first_hash, view=modal())
    assert stale.value.response["error"] == "hash_conflict"
    assert (stored := fake.view(view_id)) and stored.title == "Signed"


@pytest.mark.asyncio
async def test_modal_stacks_and_home_tabs(fake: FakeSlack, client: AsyncWebClient) -> None:
    root = await client.views_open(trigger_id=fake.issue_trigger_id("U1"), view=modal())
    for title in ("Step 2", "Step 3"):
        trigger = fake.issue_trigger_id("U1", view_id=root["view"]["id"])
        await client.views_push(trigger_id=trigger, view=modal(title=title))
    with pytest.raises(SlackApiError) as full:
        trigger = fake.issue_trigger_id("U1", view_id=root["view"]["id"])
        await client.views_push(trigger_id=trigger, view=modal(title="Step 4"))
    home = {"type": "home", "blocks": [BUTTONS[0]]}
    first = await client.views_publish(user_id="U1", view=home)
    again = await client.views_publish(user_id="U1", view=home)

    assert full.value.response["error"] == "push_limit_reached"
    assert [v.title for v in fake.open_views("U1")] == ["Sign off", "Step 2", "Step 3"]
    assert (top := fake.top_view("U1")) and top.root_view_id == root["view"]["id"]
    assert first["view"]["id"] == again["view"]["id"] == getattr(fake.home("U1"), "id", None)
    fake.close_view(root["view"]["id"])
    assert fake.open_views() == []


@pytest.mark.asyncio
async def test_socket_mode_url_is_only_for_the_app_token(fake: FakeSlack) -> None:
    app_client = AsyncWebClient(base_url=fake.api_url)
    with pytest.raises(SlackApiError) as not_set:
        await app_client.apps_connections_open(app_token="xapp-test")
    fake.allow_socket_mode("ws://127.0.0.1:9/link", app_token="xapp-test")
    opened = await app_client.apps_connections_open(app_token="xapp-test")
    with pytest.raises(SlackApiError) as bot_token:
        await app_client.apps_connections_open(app_token=TOKEN)
    assert not_set.value.response["error"] == "not_allowed_token_type"
    assert opened["url"] == "ws://127.0.0.1:9/link"
    assert bot_token.value.response["error"] == "not_allowed_token_type"


@pytest.mark.asyncio
async def test_slack_refuses_what_real_slack_refuses(
    fake: FakeSlack, client: AsyncWebClient
) -> None:
    with pytest.raises(SlackApiError) as long_title:
        await client.views_open(
            trigger_id=fake.issue_trigger_id("U1"), view=modal(title="A title far too long for it")
        )
    with pytest.raises(SlackApiError) as twice:
        await client.chat_postMessage(channel="C1", text="x", blocks=[BUTTONS[0], BUTTONS[0]])
    assert long_title.value.response["error"] == "invalid_arguments"
    assert "/view/title/text" in long_title.value.response["response_metadata"]["messages"][0]
    assert twice.value.response["error"] == "invalid_blocks"


@pytest.mark.asyncio
async def test_usergroups_and_users(fake: FakeSlack, client: AsyncWebClient) -> None:
    fake.add_usergroup("S0SRE", ["U1", "U2"], handle="sre")
    fake.add_user("U1", "ada", "Ada Lovelace", email="ada@example.com")

    members = await client.usergroups_users_list(usergroup="S0SRE")
    user = await client.users_info(user="U1")
    assert members["users"] == ["U1", "U2"]
    assert user["user"]["real_name"] == "Ada Lovelace"
    assert fake.calls("usergroups.users.list")[0].args == {"usergroup": "S0SRE"}
    for call, error in [
        (client.usergroups_users_list(usergroup="S0NONE"), "no_such_subteam"),
        (client.users_info(user="U404"), "user_not_found"),
    ]:
        with pytest.raises(SlackApiError) as refused:
            await call
        assert refused.value.response["error"] == error


@pytest.mark.asyncio
async def test_files_upload_v2_round_trip(fake: FakeSlack, client: AsyncWebClient) -> None:
    parent = await client.chat_postMessage(channel="CREL", text="r1")
    done = await client.files_upload_v2(
        channel="CREL",
        thread_ts=parent["ts"],
        content=b"check,status\nslo,ok\n",
        filename="evidence.csv",
        title="Evidence",
        initial_comment="attached",
    )
    (stored,) = fake.files()
    assert done["file"]["id"] == stored.id
    assert (stored.data, stored.title, stored.channel) == (
        b"check,status\nslo,ok\n",
        "Evidence",
        "CREL",
    )
    assert stored.thread_ts == parent["ts"]
    assert fake.thread("CREL", parent["ts"])[0].files[0]["title"] == "Evidence"


@pytest.mark.asyncio
async def test_rate_limit_surfaces_as_429_with_retry_after(
    fake: FakeSlack, client: AsyncWebClient
) -> None:
    fake.fail("chat.postMessage", status=429, retry_after=7)
    with pytest.raises(SlackApiError) as limited:
        await client.chat_postMessage(channel="C1", text="x")
    assert limited.value.response.status_code == 429
    assert limited.value.response.headers["Retry-After"] == "7"
    assert limited.value.response["error"] == "ratelimited"
    assert fake.messages("C1") == []
    await client.chat_postMessage(channel="C1", text="x")
    assert [(c.status, c.faulted) for c in fake.calls()] == [(429, True), (200, False)]


@pytest.mark.asyncio
async def test_faults_are_retried_or_surface(fake: FakeSlack) -> None:
    patient = AsyncWebClient(
        token=TOKEN, base_url=fake.api_url, retry_handlers=[AsyncRateLimitErrorRetryHandler()]
    )
    fake.fail("chat.postMessage", status=429, retry_after=0)
    await patient.chat_postMessage(channel="C1", text="once")
    fake.fail("chat.update", status=503, count=2)
    with pytest.raises(SlackApiError) as broken:
        await patient.chat_update(channel="C1", ts="1.1", text="x")
    assert broken.value.response.status_code == 503
    assert [m.text for m in fake.messages("C1")] == ["once"]
    assert len(fake.calls("chat.postMessage")) == 2

    fake.delay("auth.test", 0.3, count=1)
    started = time.monotonic()
    await patient.auth_test()
    assert time.monotonic() - started >= 0.3 and fake.calls("auth.test")[0].delayed == 0.3


@pytest.mark.asyncio
async def test_response_urls_are_recorded_and_applied(
    fake: FakeSlack, client: AsyncWebClient
) -> None:
    posted = await client.chat_postMessage(channel="CREL", text="r1", blocks=BUTTONS)
    on_message = fake.new_response_url("CREL", "U1", posted["ts"])
    on_command = fake.new_response_url("CREL", "U1")

    await AsyncWebhookClient(on_message).send(text="approved", replace_original=True)
    await AsyncWebhookClient(on_command).send(text="see channel", response_type="in_channel")
    await AsyncWebhookClient(on_command).send(text="just you")

    assert [r.text for r in fake.responses()] == ["approved", "see channel", "just you"]
    assert fake.responses()[0].replace_original
    assert [m.text for m in fake.messages("CREL")] == ["approved", "see channel"]
    assert [e.text for e in fake.ephemerals("U1")] == ["just you"]


@pytest.mark.asyncio
async def test_wait_for_wakes_on_calls_and_explains_timeouts(
    fake: FakeSlack, client: AsyncWebClient
) -> None:
    async def later() -> None:
        await asyncio.sleep(0.05)
        await client.chat_postMessage(channel="C1", text="done")

    task = asyncio.create_task(later())
    message = await fake.wait_for(lambda s: s.last_message("C1"), timeout=5)
    await task
    assert message.text == "done"
    with pytest.raises(TimeoutError, match=r"chat.postMessage ok channel=C1"):
        await fake.wait_for(lambda s: s.last_message("C2"), timeout=0.1)


# --- what Slack sends -------------------------------------------------------------------


def test_signature_verifies_with_slack_sdk() -> None:
    body = payloads.slash_command("U1", "open r1", trigger_id="t", response_url="u")
    headers = payloads.sign(SECRET, body)
    verifier = SignatureVerifier(SECRET)
    assert verifier.is_valid_request(body, headers)
    assert not SignatureVerifier("other").is_valid_request(body, headers)
    assert not verifier.is_valid_request(body, payloads.sign(SECRET, body, int(time.time()) - 600))


def test_view_submission_state_has_documented_shapes() -> None:
    view = {"id": "V1", "hash": "1.a", **modal()}
    body = payloads.view_submission(
        "U1",
        view,
        {
            "comment": "all good",
            "env": "prod",
            "owner": "U2",
            "reviewers": ["U3", "U4"],
            "at": "09:30",
            "when": 1714550400,
        },
    )
    payload = payloads.decode(body)
    values = payload["view"]["state"]["values"]
    assert payload["type"] == "view_submission" and payload["view"]["callback_id"] == "signoff"
    assert payload["user"]["id"] == "U1" and payload["response_urls"] == []
    assert values["attest"]["attest"] == {"type": "checkboxes", "selected_options": []}
    assert values["comment"]["comment"] == {"type": "plain_text_input", "value": "all good"}
    assert values["env"]["env"] == {"type": "static_select", "selected_option": option("prod")}
    assert values["owner"]["owner"] == {"type": "users_select", "selected_user": "U2"}
    assert values["reviewers"]["reviewers"]["selected_users"] == ["U3", "U4"]
    assert values["day"]["day"] == {"type": "datepicker", "selected_date": "2024-05-01"}
    assert values["at"]["at"] == {"type": "timepicker", "selected_time": "09:30"}
    assert values["when"]["when"]["selected_date_time"] == 1714550400

    ticked = {"attest": ["runbook"], "comment": "c", "env": "prod"}
    state = payloads.decode(payloads.view_submission("U1", view, ticked))["view"]["state"]
    assert state["values"]["attest"]["attest"]["selected_options"] == [option("runbook")]
    with pytest.raises(ValueError, match="required"):
        payloads.view_submission("U1", view, {"comment": "no env"})
    with pytest.raises(ValueError, match="no option 'nope'"):
        payloads.view_submission("U1", view, {"attest": ["nope"], "comment": "c", "env": "prod"})


def test_block_actions_matches_slack_for_messages_and_ephemerals() -> None:
    message = {"type": "message", "ts": "1.000100", "text": "r1", "blocks": BUTTONS}
    button = BUTTONS[1]["elements"][0]
    action = {"type": "button", "action_id": "approve", "block_id": "act", "value": "r1"}
    shared = payloads.decode(
        payloads.block_actions("U1", "CREL", message, action, response_url="u")
    )
    private = payloads.decode(
        payloads.block_actions("U1", "CREL", message, action, is_ephemeral=True)
    )
    assert shared["container"] == {
        "type": "message",
        "message_ts": "1.000100",
        "channel_id": "CREL",
        "is_ephemeral": False,
    }
    assert shared["message"]["blocks"][1]["elements"][0] == button
    assert shared["actions"][0]["value"] == "r1" and shared["response_url"] == "u"
    assert "message" not in private and private["container"]["is_ephemeral"] is True


# --- a person driving a real Bolt app ----------------------------------------------------


def readiness_app(api_url: str) -> AsyncApp:
    app = AsyncApp(client=AsyncWebClient(token=TOKEN, base_url=api_url), signing_secret=SECRET)

    @app.command("/readiness")
    async def command(ack: Any, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        if body["text"] == "sign":
            await client.views_open(trigger_id=body["trigger_id"], view=modal())
        else:
            await client.chat_postMessage(channel=body["channel_id"], text="r1", blocks=BUTTONS)

    @app.action("approve")
    async def approve(ack: Any, body: dict[str, Any], respond: Any) -> None:
        await ack()
        await respond(replace_original=True, text=f"approved by {body['user']['name']}")

    @app.action("more")
    async def more(ack: Any, body: dict[str, Any], respond: Any) -> None:
        await ack()
        await respond(text=f"chose {body['actions'][0]['selected_option']['value']}")

    @app.view("signoff")
    async def signed(ack: Any, view: dict[str, Any], client: AsyncWebClient) -> None:
        values = view["state"]["values"]
        if not values["attest"]["attest"]["selected_options"]:
            await ack(response_action="errors", errors={"attest": "Tick every box"})
            return
        await ack()
        comment = values["comment"]["comment"]["value"]
        await client.chat_postMessage(channel="CREL", text=f"signed: {comment}")

    @app.event("app_home_opened")
    async def home(event: dict[str, Any], client: AsyncWebClient) -> None:
        section = {"type": "section", "text": {"type": "mrkdwn", "text": "Your sign-offs"}}
        await client.views_publish(
            user_id=event["user"], view={"type": "home", "blocks": [section]}
        )

    return app


class BoltThread:
    """A Bolt app served over HTTP from its own loop, as the bot will be."""

    def __init__(self, build: Callable[[], AsyncApp]) -> None:
        self.build = build
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.runner: web.AppRunner | None = None

    def __enter__(self) -> str:
        self.thread.start()
        return asyncio.run_coroutine_threadsafe(self._up(), self.loop).result(10)

    def __exit__(self, *_: object) -> None:
        asyncio.run_coroutine_threadsafe(self._down(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()

    async def _up(self) -> str:
        self.runner = web.AppRunner(self.build().web_app(), access_log=None)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", 0).start()
        return f"http://127.0.0.1:{self.runner.addresses[0][1]}/slack/events"

    async def _down(self) -> None:
        others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        await asyncio.gather(*others, return_exceptions=True)
        if self.runner is not None:
            await self.runner.cleanup()


@pytest.fixture
def slack() -> Iterator[tuple[FakeSlackThread, SlackDriver]]:
    with FakeSlackThread(bot_token=TOKEN) as fake:
        fake.add_channel("CREL", "release")
        fake.add_user("U1", "ada", "Ada Lovelace")
        with BoltThread(lambda: readiness_app(fake.api_url)) as url:
            with SlackDriver(url, SECRET, fake) as driver:
                yield fake, driver


def test_driver_clicks_and_responds_through_bolt(
    slack: tuple[FakeSlackThread, SlackDriver],
) -> None:
    fake, person = slack
    assert person.command("U1", "status", channel="CREL").status_code == 200
    message = fake.wait_for(lambda s: s.last_message("CREL"))

    with pytest.raises(AssertionError, match=r"approve \(button, value='r1'\), more"):
        person.click("U1", message, "reject")
    person.click("U1", message, "more", value="reopen")
    assert fake.wait_for(lambda s: s.last_ephemeral("U1")).text == "chose reopen"

    assert person.click("U1", message, "approve").status_code == 200
    edited = fake.wait_for(lambda s: (m := s.message("CREL", message.ts)) and m.edits and m)
    assert edited.text == "approved by ada"
    assert message.text == "r1"  # what the test holds is a snapshot


def test_driver_submits_modals_and_applies_the_answer(
    slack: tuple[FakeSlackThread, SlackDriver],
) -> None:
    fake, person = slack
    person.command("U1", "sign", channel="CREL")
    view = fake.wait_for(lambda s: s.top_view("U1"))
    assert view.callback_id == "signoff" and json.loads(view.private_metadata) == {"release": 1}

    refused = person.submit("U1", view, {"comment": "lgtm", "env": "prod"})
    assert refused.json()["response_action"] == "errors"
    assert (shown := fake.view(view.id)) and shown.errors == {"attest": "Tick every box"}

    person.submit("U1", view, {"attest": ["tests", "runbook"], "comment": "lgtm", "env": "prod"})
    assert fake.wait_for(lambda s: s.last_message("CREL")).text == "signed: lgtm"
    assert fake.top_view("U1") is None and (closed := fake.view(view.id)) and closed.closed


def test_driver_events_and_forged_requests(slack: tuple[FakeSlackThread, SlackDriver]) -> None:
    fake, person = slack
    person.open_home("U1")
    home = fake.wait_for(lambda s: s.home("U1"))
    assert "Your sign-offs" in home.all_text()

    body = payloads.slash_command("U1", "status")
    forged = payloads.sign("not-the-secret", body)
    assert person.raw(body, {"Content-Type": payloads.FORM, **forged}).status_code == 401
    assert fake.last_message("CREL") is None
