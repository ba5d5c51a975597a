"""A local stand-in for GitHub, for a GitHub App that gates deployments: its REST API
(FakeGitHub, FakeGitHubThread: installation tokens for a verified JWT, the review endpoint
of custom deployment protection rules) and its webhooks (payloads, GitHubDriver). Used by
the tests, and by the demo if it wants GitHub in the picture."""

from bot.fake_github.driver import Delivery, GitHubDriver
from bot.fake_github.model import Call, GitHubError, Review, Rule, Token
from bot.fake_github.payloads import sign
from bot.fake_github.server import FakeGitHub
from bot.fake_github.thread import FakeGitHubThread

__all__ = [
    "Call",
    "Delivery",
    "FakeGitHub",
    "FakeGitHubThread",
    "GitHubDriver",
    "GitHubError",
    "Review",
    "Rule",
    "Token",
    "sign",
]
