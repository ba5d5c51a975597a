"""A local stand-in for Slack: its Web API (FakeSlack), Slack's requests (payloads), Socket
Mode's WebSocket (SocketModeServer) and a person clicking around (SlackDriver). Used by the
scenario tests and the browser demo."""

from bot.fake_slack.driver import SlackDriver
from bot.fake_slack.model import (
    Call,
    Ephemeral,
    Message,
    Response,
    SlackError,
    Team,
    UploadedFile,
    User,
    View,
)
from bot.fake_slack.server import FakeSlack
from bot.fake_slack.socket_mode import SocketModeServer
from bot.fake_slack.thread import FakeSlackThread

__all__ = [
    "Call",
    "Ephemeral",
    "FakeSlack",
    "FakeSlackThread",
    "Message",
    "Response",
    "SlackDriver",
    "SlackError",
    "SocketModeServer",
    "Team",
    "UploadedFile",
    "User",
    "View",
]
