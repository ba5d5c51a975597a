"""The fake refuses what Slack refuses, the same way on every surface that carries blocks:
chat.postMessage, chat.update, chat.postEphemeral and a POST to a response_url (50 blocks,
12,000 characters of block text, a section's 3,000, a field's 2,000, a header's 150, a
top-level text's 40,000), and views (100 blocks). A refused call is recorded as a call,
with its error, and changes nothing."""

from __future__ import annotations

from typing import Any

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.fake_slack import FakeSlack
from bot.fake_slack.limits import blocks_text_length

Blocks = list[dict[str, Any]]
CHANNEL = "CREL"
SURFACES = ["chat.postMessage", "chat.update", "chat.postEphemeral", "response_url"]


def plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text}


def section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def sections(count: int, size: int = 10) -> Blocks:
    return [section("x" * size) for _ in range(count)]


def button(n: int, text: str) -> dict[str, Any]:
    return {"type": "button", "action_id": f"b{n}", "text": plain(text), "value": "v" * 2000}


def every_kind_of_text(size: int) -> Blocks:
    """SIZE characters in each kind of text object a message can hold (12 of them), none
    over its own limit."""
    options = [{"text": plain("o" * 75), "value": str(n)} for n in range(size // 75)]
    return [
        {"type": "header", "text": plain("h" * min(size, 150))},
        section("s" * size),
        {"type": "section", "fields": [{"type": "mrkdwn", "text": "f" * size}]},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": "c" * size}]},
        {"type": "actions", "elements": [button(n, "b" * 75) for n in range(size // 75)]},
        {
            "type": "actions",
            "elements": [{"type": "static_select", "action_id": "pick", "options": options}],
        },
    ]


# A message whose blocks hold 12,000 characters (accepted) or 12,001 (refused), each
# block within its own limit; the over-limit one spreads its text over every kind.
AT_LIMIT = sections(4, 3000)
OVER_LIMIT = [*every_kind_of_text(1500), *sections(3, 3000)][:50]
TOO_LONG = [
    # (what, blocks, top-level text, error)
    ("51 blocks", sections(51), "x", "invalid_blocks"),
    ("12,001 characters of block text", [*AT_LIMIT, section("y")], "x", "msg_blocks_too_long"),
    ("text spread over every kind", OVER_LIMIT, "x", "msg_blocks_too_long"),
    ("a section of 3,001", [section("s" * 3001)], "x", "invalid_blocks"),
    (
        "a field of 2,001",
        [{"type": "section", "fields": [{"type": "mrkdwn", "text": "f" * 2001}]}],
        "x",
        "invalid_blocks",
    ),
    ("a header of 151", [{"type": "header", "text": plain("h" * 151)}], "x", "invalid_blocks"),
    ("a text of 40,001", [section("ok")], "t" * 40_001, "msg_too_long"),
]


class Surface:
    """One way of sending a message, and what it has recorded as sent."""

    def __init__(self, fake: FakeSlack, client: AsyncWebClient, method: str) -> None:
        self.fake, self.client, self.method = fake, client, method
        self.original_ts = ""

    async def prepare(self) -> None:
        posted = await self.client.chat_postMessage(channel=CHANNEL, text="card", blocks=[])
        self.original_ts = posted["ts"]
        self.fake.clear()

    async def send(self, text: str, blocks: Blocks) -> str | None:
        """None when accepted, else the error Slack answered."""
        try:
            if self.method == "chat.postMessage":
                await self.client.chat_postMessage(channel=CHANNEL, text=text, blocks=blocks)
            elif self.method == "chat.update":
                await self.client.chat_update(
                    channel=CHANNEL, ts=self.original_ts, text=text, blocks=blocks
                )
            elif self.method == "chat.postEphemeral":
                await self.client.chat_postEphemeral(
                    channel=CHANNEL, user="U1", text=text, blocks=blocks
                )
            else:
                url = self.fake.new_response_url(CHANNEL, "U1")
                answer = await AsyncWebhookClient(url).send(text=text, blocks=blocks)
                return None if answer.status_code == 200 else f"{answer.status_code} {answer.body}"
        except SlackApiError as refused:
            return str(refused.response["error"])
        return None

    def sent(self) -> dict[str, list[Any]]:
        """Everything recorded as sent since `prepare`, by kind."""
        messages = self.fake.messages(CHANNEL)
        return {
            "chat.postMessage": messages[1:],
            "chat.update": [e for m in messages for e in m.edits],
            "chat.postEphemeral": self.fake.ephemerals(),
            "response_url": self.fake.responses(),
        }


@pytest.fixture(params=SURFACES)
async def surface(request: Any, fake: FakeSlack, client: AsyncWebClient) -> Surface:
    made = Surface(fake, client, request.param)
    await made.prepare()
    return made


# --- counting ---------------------------------------------------------------------------


def test_every_text_object_counts_towards_the_12000() -> None:
    # header 150, section 1500, field 1500, context 1500, 20 buttons and 20 options of 75
    assert blocks_text_length(every_kind_of_text(1500)) == 150 + 3 * 1500 + 2 * 20 * 75
    assert blocks_text_length(AT_LIMIT) == 12_000
    assert blocks_text_length(OVER_LIMIT) > 12_000 and len(OVER_LIMIT) <= 50


# --- every message surface, the same refusals -------------------------------------------


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("what", "blocks", "text", "error"), TOO_LONG, ids=[t[0] for t in TOO_LONG]
)
async def test_each_surface_refuses_and_records_nothing(
    surface: Surface, what: str, blocks: Blocks, text: str, error: str
) -> None:
    refused = await surface.send(text, blocks)

    # A response_url answers as a webhook does: HTTP 400 and the error as its body.
    expected = f"400 {error}" if surface.method == "response_url" else error
    assert refused == expected, what
    assert all(sent == [] for sent in surface.sent().values()), surface.sent()
    (call,) = surface.fake.calls(surface.method)
    assert call.error == error and not call.ok
    if surface.method == "chat.update":
        card = surface.fake.message(CHANNEL, surface.original_ts)
        assert card is not None and (card.text, card.blocks, card.edited_ts) == ("card", [], None)


@pytest.mark.asyncio
async def test_each_surface_takes_a_message_at_the_limits(surface: Surface) -> None:
    for blocks in (sections(50), AT_LIMIT, [section("s" * 3000)]):
        assert await surface.send("t" * 40_000, blocks) is None
    assert len(surface.sent()[surface.method]) == 3


# --- response_url -----------------------------------------------------------------------


@pytest.mark.asyncio
async def test_response_url_refusals_spend_no_use_and_change_no_message(
    fake: FakeSlack, client: AsyncWebClient
) -> None:
    posted = await client.chat_postMessage(channel=CHANNEL, text="card", blocks=[section("a")])
    url = fake.new_response_url(CHANNEL, "U1", posted["ts"])
    hook = AsyncWebhookClient(url)

    too_many = await hook.send(text="x", blocks=sections(51), replace_original=True)
    too_long = await hook.send(text="x", blocks=sections(5, 2500), replace_original=True)
    for _ in range(5):  # a response_url takes 5 uses: the refused ones spent none
        assert (await hook.send(text="fine", replace_original=True)).status_code == 200

    assert (too_many.status_code, too_many.body) == (400, "invalid_blocks")
    assert (too_long.status_code, too_long.body) == (400, "msg_blocks_too_long")
    assert [r.text for r in fake.responses()] == ["fine"] * 5
    assert [c.error for c in fake.calls("response_url")][:2] == [
        "invalid_blocks",
        "msg_blocks_too_long",
    ]
    card = fake.message(CHANNEL, posted["ts"])
    assert card is not None and card.text == "fine" and len(card.edits) == 5


@pytest.mark.asyncio
async def test_response_url_refuses_a_body_that_is_not_a_message(fake: FakeSlack) -> None:
    hook = AsyncWebhookClient(fake.new_response_url(CHANNEL, "U1"))
    answer = await hook.send_dict({"text": "x", "blocks": {"type": "section"}})
    assert (answer.status_code, answer.body) == (400, "invalid_blocks")
    assert fake.responses() == [] and fake.ephemerals() == []


# --- views ------------------------------------------------------------------------------


def view(kind: str, blocks: int) -> dict[str, Any]:
    spec: dict[str, Any] = {"type": kind, "blocks": sections(blocks)}
    if kind == "modal":
        spec["title"] = plain("Checklist")
    return spec


@pytest.mark.asyncio
async def test_views_take_100_blocks_and_refuse_101(
    fake: FakeSlack, client: AsyncWebClient
) -> None:
    opened = await client.views_open(
        trigger_id=fake.issue_trigger_id("U1"), view=view("modal", 100)
    )
    view_id = opened["view"]["id"]
    await client.views_publish(user_id="U1", view=view("home", 100))
    refusals = {
        "views.open": lambda: client.views_open(
            trigger_id=fake.issue_trigger_id("U1"), view=view("modal", 101)
        ),
        "views.update": lambda: client.views_update(view_id=view_id, view=view("modal", 101)),
        "views.push": lambda: client.views_push(
            trigger_id=fake.issue_trigger_id("U1", view_id=view_id), view=view("modal", 101)
        ),
        "views.publish": lambda: client.views_publish(user_id="U1", view=view("home", 101)),
    }
    for method, send in refusals.items():
        with pytest.raises(SlackApiError) as refused:
            await send()
        assert refused.value.response["error"] == "invalid_arguments", method
        assert (
            "no more than 100 items" in refused.value.response["response_metadata"]["messages"][0]
        )
        assert fake.calls(method)[-1].error == "invalid_arguments"

    assert [len(v.blocks) for v in fake.views("U1")] == [100, 100]
    assert fake.open_views("U1")[-1].id == view_id
