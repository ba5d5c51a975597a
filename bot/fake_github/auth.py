"""GitHub App authentication as GitHub does it: an RS256 JWT signed with the app's private
key buys an installation access token, and that token (not the JWT) calls the REST API.

The rules come from GitHub's "Generating a JSON Web Token (JWT) for a GitHub App": RS256,
`iss` the app id (or client id), `iat` not in the future (60 s of clock drift allowed),
`exp` in the future and no more than 10 minutes ahead. The messages are GitHub's own.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from bot.fake_github.model import (
    DEFAULT_PERMISSIONS,
    JSON,
    TOKEN_DOCS,
    App,
    GitHubError,
    Installation,
    Token,
    bad_credentials,
    not_found,
)

MAX_JWT_LIFETIME = 600  # exp - iat, and exp - now, at most 10 minutes
CLOCK_DRIFT = 60  # iat may be this far ahead of our clock
TOKEN_LIFETIME = 3600.0  # an installation token lasts an hour
NOT_DECODED = "A JSON web token could not be decoded"
EXP_TOO_FAR = "'Expiration time' claim ('exp') is too far in the future"
EXP_PAST = (
    "'Expiration time' claim ('exp') must be a numeric value representing the future time "
    "at which the assertion expires"
)
IAT_BAD = (
    "'Issued at' claim ('iat') must be an Integer representing the time that the assertion "
    "was issued"
)


def new_key_pair() -> tuple[str, str]:
    """(private PEM, public PEM) of a new 2048-bit RSA key: PKCS#1, as GitHub hands it out."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


def iso(at: float) -> str:
    """`2016-07-11T22:14:10Z`: whole seconds, rounded down, UTC."""
    return datetime.fromtimestamp(int(at), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class Apps:
    """The apps, their installations and every token issued to them."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self.clock = clock
        self.apps: dict[int, App] = {}
        self.installations: dict[int, Installation] = {}
        self.tokens: dict[str, Token] = {}
        self.issued: list[Token] = []
        self.repo_ids: dict[str, int] = {}  # "owner/name" (lower case) -> repository id
        self.token_lifetime = TOKEN_LIFETIME

    # --- setting the scene --------------------------------------------------------------

    def add_app(self, app_id: int, client_id: str | None = None) -> str:
        private, public = new_key_pair()
        self.apps[app_id] = App(app_id, client_id or f"Iv23li{secrets.token_hex(7)}", public)
        return private

    def add_installation(
        self,
        installation_id: int,
        app_id: int,
        repositories: list[str],
        permissions: Mapping[str, str] | None = None,
    ) -> None:
        if app_id not in self.apps:
            raise ValueError(f"no app {app_id}: add_app({app_id}) first")
        for repo in repositories:
            if repo.count("/") != 1:
                raise ValueError(f"repositories are 'owner/name', not {repo!r}")
            self.repo_id(repo)
        granted = dict(permissions or DEFAULT_PERMISSIONS)
        self.installations[installation_id] = Installation(
            installation_id, app_id, list(repositories), granted
        )

    def repo_id(self, repo: str) -> int:
        """The repository's id: made up the first time it is named, the same ever after."""
        return self.repo_ids.setdefault(repo.lower(), 700_000_001 + len(self.repo_ids))

    def installation_for(self, repo: str) -> Installation:
        found = [i for i in self.installations.values() if i.includes(repo)]
        if len(found) != 1:
            raise ValueError(f"{len(found)} installations include {repo}; say installation_id=")
        return found[0]

    # --- POST /app/installations/{id}/access_tokens -------------------------------------

    def exchange(self, authorization: str | None, installation_id: int, body: Any) -> Token:
        """Verify the app's JWT and issue a new token for the installation."""
        app = self.verify_jwt(_credential(authorization, schemes=("bearer",)))
        installation = self.installations.get(installation_id)
        if installation is None or installation.app_id != app.app_id:
            raise not_found(TOKEN_DOCS)
        request = body if isinstance(body, dict) else {}
        repos = _narrowed(installation, request, self.repo_ids)
        permissions = _permissions(installation, request.get("permissions"))
        now = self.clock()
        token = Token(
            token=f"ghs_{secrets.token_urlsafe(27 + secrets.randbelow(12))}",
            installation_id=installation_id,
            app_id=app.app_id,
            repositories=repos,
            permissions=permissions,
            issued_at=now,
            expires_at=now + self.token_lifetime,
        )
        self.tokens[token.token] = token
        self.issued.append(token)
        return token

    def answer(self, token: Token, body: Any) -> JSON:
        """The 201 body for `token`."""
        answer: JSON = {
            "token": token.token,
            "expires_at": iso(token.expires_at),
            "permissions": dict(token.permissions),
            "repository_selection": "selected",
        }
        if isinstance(body, dict) and (body.get("repositories") or body.get("repository_ids")):
            answer["repositories"] = [
                {"full_name": r, "name": r.split("/")[1]} for r in token.repositories
            ]
        return answer

    def verify_jwt(self, credential: str) -> App:
        """The app whose key signed `credential` (RS256), if its times are acceptable. Only the
        signature and `iss`, `iat`, `exp` count: GitHub reads no other claim."""
        try:
            unverified = jwt.api_jws.decode_complete(
                credential, options={"verify_signature": False}
            )
            claims = json.loads(unverified["payload"])
        except (jwt.PyJWTError, ValueError):
            raise GitHubError(401, NOT_DECODED) from None
        app = self._issuer(claims.get("iss")) if isinstance(claims, dict) else None
        if app is None or unverified["header"].get("alg") != "RS256":
            raise GitHubError(401, NOT_DECODED)
        try:
            jwt.api_jws.decode(credential, app.public_key_pem, algorithms=["RS256"])
        except jwt.PyJWTError:
            raise GitHubError(401, NOT_DECODED) from None
        _check_times(claims.get("iat"), claims.get("exp"), self.clock())
        return app

    def _issuer(self, iss: object) -> App | None:
        if isinstance(iss, bool):
            return None
        if isinstance(iss, int) or (isinstance(iss, str) and iss.isdigit()):
            return self.apps.get(int(iss))
        if isinstance(iss, str):
            return next((a for a in self.apps.values() if a.client_id == iss), None)
        return None

    # --- any other call: an installation token ------------------------------------------

    def authenticate(self, authorization: str | None) -> Token:
        """The unexpired token this fake issued, from `Bearer <t>` or `token <t>`."""
        token = self.tokens.get(_credential(authorization, schemes=("bearer", "token")))
        if token is None or token.expires_at <= self.clock():
            raise bad_credentials()
        return token


def _credential(authorization: str | None, schemes: tuple[str, ...]) -> str:
    scheme, _, value = (authorization or "").strip().partition(" ")
    if scheme.lower() not in schemes or not value.strip():
        raise GitHubError(401, NOT_DECODED if schemes == ("bearer",) else "Requires authentication")
    return value.strip()


def _check_times(iat: object, exp: object, now: float) -> None:
    issued, expires = _seconds(iat), _seconds(exp)
    if issued is None or issued > now + CLOCK_DRIFT:
        raise GitHubError(401, IAT_BAD)
    if expires is None or expires <= now:
        raise GitHubError(401, EXP_PAST)
    if expires > now + MAX_JWT_LIFETIME or expires - issued > MAX_JWT_LIFETIME:
        raise GitHubError(401, EXP_TOO_FAR)


def _seconds(value: object) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return None


def _narrowed(installation: Installation, request: JSON, ids: Mapping[str, int]) -> tuple[str, ...]:
    """The repositories a token is for: all the installation's, or those the request names
    (`repositories`: names without the owner; `repository_ids`)."""
    names, numbers = _listed(request.get("repositories")), _listed(request.get("repository_ids"))
    if not names and not numbers:
        return tuple(installation.repositories)
    by_name = {r.split("/")[1].lower(): r for r in installation.repositories}
    by_id = {ids.get(r.lower()): r for r in installation.repositories}
    picked = [by_name.get(str(n).lower()) for n in names] + [by_id.get(i) for i in numbers]
    if None in picked:
        raise GitHubError(
            422,
            "There is at least one repository that does not exist or is not accessible to the "
            "parent installation.",
            TOKEN_DOCS,
        )
    return tuple(dict.fromkeys(r for r in picked if r is not None))


def _listed(value: object) -> list[Any]:
    if value is None or value == []:
        return []
    return list(value) if isinstance(value, list) else [value]


def _permissions(installation: Installation, wanted: object) -> dict[str, str]:
    if not isinstance(wanted, dict) or not wanted:
        return dict(installation.permissions)
    levels = {"read": 1, "write": 2, "admin": 3}
    for name, level in wanted.items():
        granted = installation.permissions.get(str(name))
        if granted is None or levels.get(str(level), 9) > levels.get(granted, 0):
            raise GitHubError(
                422, "The permissions requested are not granted to this installation.", TOKEN_DOCS
            )
    return {str(k): str(v) for k, v in wanted.items()}
