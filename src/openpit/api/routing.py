"""The REST route table and the one wrapper every handler runs in.

Invariants:
- A ``Route`` declares everything about an endpoint once: method, path, access
  (public / read / trade / admin), the Structs of its query string, body and reply,
  its success status and the error statuses it can answer. The wrapper enforces
  exactly that and ``openapi`` documents exactly that.
- Authentication happens before any input is decoded: an unsigned request to a
  private route is a 401 whatever its body.
- Rate limits (``ratelimit.py``) are charged before anything else on public routes
  and right after authentication on private ones (per API key; a failed
  authentication is charged to the remote IP): a 429 has decoded and run nothing.
- Every reply under ``/api/v1`` is JSON, errors included (``error_middleware`` turns
  aiohttp's own 404/405 into the same shape).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import msgspec
from aiohttp import web

from openpit.api.errors import FORBIDDEN, INTERNAL, INVALID, NOT_FOUND, UNAUTHORIZED, ApiError
from openpit.api.ratelimit import RestRateLimiter
from openpit.api.schemas import Error
from openpit.api.signing import (
    HEADER_KEY,
    HEADER_SIGNATURE,
    HEADER_TIMESTAMP,
    RequestVerifier,
    SignatureError,
)
from openpit.core.access import Permission, Principal

log = logging.getLogger("openpit.api")

PREFIX = "/api/v1"
MAX_BODY = 64 * 1024

_encoder = msgspec.json.Encoder(decimal_format="string")


class Access(StrEnum):
    PUBLIC = "public"
    READ = "read"
    TRADE = "trade"
    ADMIN = "admin"

    @property
    def permission(self) -> Permission | None:
        return None if self is Access.PUBLIC else Permission(self.value)


@dataclass(frozen=True, slots=True)
class Call:
    """What a handler gets: the authenticated caller and the decoded inputs."""

    request: web.Request
    caller: Principal | None
    query: Any
    body: Any
    params: Mapping[str, int | str]

    @property
    def user(self) -> str:
        assert self.caller is not None
        return self.caller.user


Handler = Callable[[Call], Awaitable[object]]


@dataclass(frozen=True, slots=True)
class Route:
    method: str
    path: str  # OpenAPI form, e.g. /orders/{order_id}; relative to PREFIX
    handler: Handler
    summary: str
    tag: str
    access: Access = Access.PUBLIC
    query: type[msgspec.Struct] | None = None
    body: type[msgspec.Struct] | None = None
    reply: Any = None
    status: int = 200
    errors: tuple[int, ...] = (400,)
    params: Mapping[str, type[int] | type[str]] = field(default_factory=dict)
    op: str = ""  # operationId when the handler serves several routes

    @property
    def operation_id(self) -> str:
        return self.op or self.handler.__name__.lstrip("_")

    @property
    def aiohttp_path(self) -> str:
        path = PREFIX + self.path
        for name, kind in self.params.items():
            if kind is int:
                path = path.replace("{" + name + "}", "{" + name + r":\d{1,16}}")
        return path

    @property
    def error_statuses(self) -> list[int]:
        out = set(self.errors) | {400, 404, 429}
        if self.access is not Access.PUBLIC:
            out |= {401, 403}
        return sorted(out)


def error_response(
    status: int, code: str, message: str, headers: Mapping[str, str] | None = None
) -> web.Response:
    return web.Response(
        body=_encoder.encode(Error(code=code, message=message, status=status)),
        status=status,
        headers=headers,
        content_type="application/json",
    )


def json_response(value: object, status: int = 200) -> web.Response:
    return web.Response(body=_encoder.encode(value), status=status, content_type="application/json")


def _validation_message(exc: Exception, where: str) -> str:
    text = str(exc)
    return f"invalid {where}: {text}" if text else f"invalid {where}"


def wrap(
    route: Route, verifier: RequestVerifier, limiter: RestRateLimiter
) -> Callable[[web.Request], Awaitable[web.Response]]:
    query_type = route.query
    body_type = route.body

    async def handler(request: web.Request) -> web.Response:
        try:
            needed = route.access.permission
            if needed is None:
                limiter.check_ip(request.remote)
            if request.content_length is not None and request.content_length > MAX_BODY:
                raise ApiError(413, INVALID, f"request body over {MAX_BODY} bytes")
            raw = await request.read()
            if len(raw) > MAX_BODY:
                raise ApiError(413, INVALID, f"request body over {MAX_BODY} bytes")
            caller = None
            if needed is not None:
                try:
                    caller = verifier.verify(
                        request.headers.get(HEADER_KEY),
                        request.headers.get(HEADER_TIMESTAMP),
                        request.headers.get(HEADER_SIGNATURE),
                        request.method,
                        request.raw_path,
                        raw,
                    )
                except SignatureError as exc:
                    limiter.check_ip(request.remote)
                    raise ApiError(401, UNAUTHORIZED, str(exc)) from None
                limiter.check_key(caller.key_id or caller.user)
                if not caller.can(needed):
                    raise ApiError(
                        403, FORBIDDEN, f"this API key lacks the {needed.value!r} permission"
                    )
            query = None
            if query_type is not None:
                values: dict[str, str] = {}
                for name, value in request.query.items():
                    if name in values:
                        raise ApiError(400, INVALID, f"query parameter {name!r} given twice")
                    values[name] = value
                try:
                    query = msgspec.convert(values, query_type, strict=False)
                except msgspec.ValidationError as exc:
                    raise ApiError(400, INVALID, _validation_message(exc, "query")) from None
            body = None
            if body_type is not None:
                try:
                    body = msgspec.json.decode(raw or b"{}", type=body_type)
                except msgspec.ValidationError as exc:
                    raise ApiError(400, INVALID, _validation_message(exc, "body")) from None
                except msgspec.DecodeError:
                    raise ApiError(400, INVALID, "request body is not valid JSON") from None
            params: dict[str, int | str] = {}
            for name, kind in route.params.items():
                text = request.match_info[name]
                params[name] = int(text) if kind is int else text
            result = await route.handler(Call(request, caller, query, body, params))
            return json_response(result, route.status)
        except ApiError as exc:
            return error_response(exc.status, exc.code, exc.message, exc.headers)
        except Exception:
            log.exception("%s %s failed", request.method, request.path)
            return error_response(500, INTERNAL, "internal error (logged on the server)")

    handler.__name__ = route.operation_id
    return handler


@web.middleware
async def error_middleware(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """aiohttp's own errors (unknown path, wrong method) as JSON under ``/api/v1``."""
    if not request.path.startswith(PREFIX):
        return await handler(request)
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        code = NOT_FOUND if exc.status == 404 else INVALID
        message = (
            f"no such endpoint: {request.method} {request.path} (see {PREFIX}/docs)"
            if exc.status in (404, 405)
            else exc.reason
        )
        return error_response(exc.status, code, message)
