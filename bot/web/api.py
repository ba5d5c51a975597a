"""The HTTP API for deploy pipelines (SPEC 3.5): read a release, ask the gate, push a CI
result, mark a release deployed. Every call carries `Authorization: Bearer <token>`.

Answers are JSON, errors too (`{"error": "..."}`): 401 without the right token (and for
every call while READINESS_API_TOKEN is unset), 404 for an unknown release, 400 for a body
that is not JSON or a query parameter the endpoint doesn't know the value of, 422 for a
body that is not what the endpoint takes, 409 when the release's state refuses it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import uuid
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from aiohttp import web
from pydantic import ValidationError

from bot.domain.errors import (
    Ambiguous,
    Conflict,
    DomainError,
    InvalidInput,
    InvalidState,
    NotAuthorized,
    NotFound,
    ProductGone,
)
from bot.domain.model import ItemStatus
from bot.domain.text import clean, truncate
from bot.domain.view import ReleaseView
from bot.services.container import Services
from bot.web.schemas import (
    DeployedIn,
    ResultIn,
    gate_json,
    item_json,
    release_json,
    validation_problems,
)

log = logging.getLogger(__name__)

MAX_BODY = 64 * 1024  # a result with 10 KB of values and a URL fits many times over
DISABLED = "the API is disabled: set READINESS_API_TOKEN"
_ERRORS: tuple[tuple[type[DomainError], int], ...] = (
    (NotFound, 404),
    (NotAuthorized, 403),
    (InvalidState, 409),
    (Conflict, 409),
    (InvalidInput, 422),
)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class ApiError(Exception):
    """Answered as `{"error": message}` with this status."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _error(status: int, message: str, **extra: Any) -> web.Response:
    headers = {}
    if status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="readiness"' + (
            ', error="invalid_token"' if extra.pop("invalid", False) else ""
        )
    return web.json_response({"error": message, **extra}, status=status, headers=headers)


# --- the routes ------------------------------------------------------------------------------


def add_api(app: web.Application, services: Services, token: str | None) -> None:
    """Add /api/… to the web application; with no token every call is refused (401)."""
    # Compared as digests: constant time, and the token's length is not given away either.
    expected = hashlib.sha256(token.strip().encode()).digest() if token and token.strip() else None

    def refused(request: web.Request) -> web.Response | None:
        if expected is None:
            return _error(401, DISABLED)
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not given.strip():
            return _error(401, "missing bearer token: send Authorization: Bearer <token>")
        if not hmac.compare_digest(hashlib.sha256(given.strip().encode()).digest(), expected):
            log.warning("refused an API call with a wrong token from %s", request.remote)
            return _error(401, "wrong API token", invalid=True)
        return None

    def endpoint(methods: Mapping[str, Handler]) -> Handler:
        """Authenticate, dispatch on the method, and answer every failure as JSON."""

        async def handle(request: web.Request) -> web.StreamResponse:
            problem = refused(request)
            if problem is not None:
                return problem
            handler = methods.get(request.method)
            if handler is None:
                allowed = ", ".join(sorted(methods))
                response = _error(405, f"{request.method} is not allowed here (use {allowed})")
                response.headers["Allow"] = allowed
                return response
            try:
                return await handler(request)
            except ApiError as exc:
                return _error(exc.status, str(exc))
            except Ambiguous as exc:
                return _error(400, str(exc), products=exc.products)
            except DomainError as exc:
                status = next((code for kind, code in _ERRORS if isinstance(exc, kind)), 409)
                return _error(status, str(exc))
            except Exception:
                incident = uuid.uuid4().hex[:8]
                log.exception(
                    "API %s %s failed (incident %s)", request.method, request.path, incident
                )
                return _error(500, f"internal error (incident {incident}); see the bot's log")

        return handle

    async def release_of(request: web.Request) -> ReleaseView:
        """The release NAME, of `?product=ID` (without it: of the one product that has it;
        a name several products use is a 400 listing them)."""
        name = request.match_info["name"]
        product = request.query.get("product") or None
        if product is not None and services.deps.catalog.get(product) is None:
            known = ", ".join(services.deps.catalog.products)
            raise NotFound(f"no product {product!r} is configured (the products: {known})")
        try:
            return await services.releases.resolve_view(name, None, product)
        except Ambiguous as exc:
            raise Ambiguous(
                exc.products,
                f"several products have a release named {clean(name)!r}: "
                "say which with ?product=ID",
            ) from None
        except ProductGone:
            raise
        except NotFound:
            where = f" in product {product!r}" if product else ""
            raise NotFound(f"no release named {clean(name)!r}{where}") from None

    async def body(request: web.Request, optional: bool = False) -> dict[str, Any]:
        too_big = ApiError(413, f"the body is over {MAX_BODY} bytes")
        if (request.content_length or 0) > MAX_BODY:
            raise too_big
        raw = bytearray()
        async for chunk in request.content.iter_any():
            raw.extend(chunk)
            if len(raw) > MAX_BODY:
                raise too_big
        if not raw.strip() and optional:
            return {}
        try:
            data = json.loads(raw, parse_constant=_no_constant)
        except (ValueError, RecursionError) as exc:  # JSONDecodeError, UnicodeDecodeError
            raise ApiError(400, f"the body is not valid JSON: {exc}") from None
        if not isinstance(data, dict):
            raise ApiError(400, "the body must be a JSON object")
        return data

    def invalid(exc: ValidationError) -> web.Response:
        problems = validation_problems(exc)
        return web.json_response({"error": "; ".join(problems), "problems": problems}, status=422)

    async def get_release(request: web.Request) -> web.Response:
        return web.json_response(release_json(await release_of(request)))

    async def get_gate(request: web.Request) -> web.Response:
        """409 when not approved; `?status=always` answers 200 with the same body, for
        callers that take any non-2xx for an error (Argo Rollouts' web metrics)."""
        forms = request.query.getall("status", [])
        unknown = [repr(truncate(clean(form), 40)) for form in forms if form != "always"]
        if unknown:
            raise ApiError(
                400,
                f"unknown status {', '.join(unknown)}: the gate knows status=always "
                "(200 with the same answer, approved or not)",
            )
        named = len(services.deps.catalog) > 1
        status, answer = gate_json(await release_of(request), named)
        return web.json_response(answer, status=200 if forms else status)

    async def post_deployed(request: web.Request) -> web.Response:
        release = (await release_of(request)).release
        data = await body(request, optional=True)
        try:
            who = DeployedIn.model_validate(data)
        except ValidationError as exc:
            return invalid(exc)
        view = await services.deploy.mark_deployed_by_api(release.id, who.by)
        return web.json_response(release_json(view))

    async def post_result(request: web.Request) -> web.Response:
        release = (await release_of(request)).release
        data = await body(request)
        items = {item.id for item in services.deps.config(release).items}
        try:
            result = ResultIn.model_validate(data, context={"items": items})
        except ValidationError as exc:
            return invalid(exc)
        view = await services.checks.record_external(
            release.id,
            result.item,
            ItemStatus(result.status),
            result.recorded_reason(),
            result.recorded_values(),
            actor="api",
        )
        item = next(v for v in view.readiness.items if v.item.id == result.item)
        return web.json_response(
            {
                "release": view.release.name,
                "state": view.release.state.value,
                "readiness": view.readiness.percent,
                "item": item_json(item),  # as GET shows it: `waived` while waived
                "approved": view.authorization.approved,
            },
            status=201,
        )

    async def nowhere(request: web.Request) -> web.Response:
        return _error(404, f"no API endpoint {request.path}")

    routes: list[tuple[str, Mapping[str, Handler]]] = [
        ("/api/releases/{name}", {"GET": get_release}),
        ("/api/releases/{name}/gate", {"GET": get_gate}),
        ("/api/releases/{name}/deployed", {"POST": post_deployed}),
        ("/api/releases/{name}/results", {"POST": post_result}),
    ]
    for path, methods in routes:
        app.router.add_route("*", path, endpoint(methods))
    catch_all = {m: nowhere for m in ("GET", "POST", "PUT", "PATCH", "DELETE")}
    app.router.add_route("*", "/api", endpoint(catch_all))
    app.router.add_route("*", "/api/{rest:.*}", endpoint(catch_all))
