"""The OpenAPI 3.1 document, derived from the route table and its msgspec Structs.

Invariants:
- Built once from ``Route`` objects: the same Structs the handlers decode with give
  the request, query and reply schemas (``msgspec.json.schema_components``), so the
  document describes exactly what the server accepts and answers.
- Only constructs common client generators accept (openapi-python-client,
  openapi-generator): a fixed-length tuple (msgspec's ``prefixItems`` with
  ``items: false``) is written as an array of one item schema with ``minItems`` =
  ``maxItems``; the wire format is unchanged.
- Every operation lists its success reply and every error status it can answer
  (400, 404 and 429 always; 401 and 403 on signed routes), all with the ``Error``
  schema; 429 also documents its ``Retry-After`` header.
"""

from __future__ import annotations

from typing import Any

import msgspec

from openpit import __version__
from openpit.api.routing import PREFIX, Access, Route
from openpit.api.schemas import Error
from openpit.api.signing import HEADER_KEY, HEADER_SIGNATURE, HEADER_TIMESTAMP

REF = "#/components/schemas/{name}"

_DESCRIPTION = f"""\
REST API of openpit, a trading venue in a box. Same port and same API keys as the
WebSocket dialects.

**Signing.** Private routes need three headers: `{HEADER_KEY}` (the API key),
`{HEADER_TIMESTAMP}` (milliseconds since the epoch, within ±30 s of server time) and
`{HEADER_SIGNATURE}` = hex HMAC-SHA256 keyed with the API secret over
`timestamp + METHOD + path + body`, where `path` is the request target as sent
(with `?query` if any) and `body` the raw request body (empty for GET). A signature
is accepted once. Example: `1700000000000GET/api/v1/account/balances`.

**Numbers.** Prices, amounts and money are decimal strings (`"42650.50"`); requests
may send JSON numbers too. Times are integer milliseconds.

**Rate limits.** Signed requests are limited per API key, public ones per client
address (token buckets; defaults: signed burst 100 then 50/s, public burst 40 then
20/s). Over the limit the reply is `429` with code `rate_limited` and a `Retry-After`
header (whole seconds); the request was not executed.

**Errors.** Always `{{"code", "message", "status"}}`; order and funds rejections use the
venue's reason codes (`insufficient_funds`, `unknown_order`, ...), the same as the
WebSocket dialects.
"""


def _query_parameters(
    query: type[msgspec.Struct], components: dict[str, Any]
) -> list[dict[str, Any]]:
    schema = components[query.__name__]
    required = set(schema.get("required", ()))
    out = []
    for name, prop in schema.get("properties", {}).items():
        prop = {k: v for k, v in prop.items() if k != "title"}
        # a query value is text: ``null`` cannot be sent, so document the non-null form
        any_of = prop.get("anyOf")
        if any_of is not None:
            non_null = [a for a in any_of if a != {"type": "null"}]
            if len(non_null) == 1:
                rest = {k: v for k, v in prop.items() if k not in ("anyOf", "default")}
                prop = {**non_null[0], **rest}
        if prop.get("default", 0) is None:
            del prop["default"]
        out.append({"name": name, "in": "query", "required": name in required, "schema": prop})
    return out


def _path_parameters(route: Route) -> list[dict[str, Any]]:
    out = []
    for name, kind in route.params.items():
        schema: dict[str, Any] = (
            {"type": "integer", "minimum": 0, "maximum": 10**16 - 1}
            if kind is int
            else {"type": "string", "minLength": 1, "maxLength": 64, "pattern": "^[^/?#]+$"}
        )
        out.append({"name": name, "in": "path", "required": True, "schema": schema})
    return out


_RETRY_AFTER = {
    "description": "Whole seconds (at least 1) until the request would be accepted.",
    "schema": {"type": "integer", "minimum": 1},
}


def _error_reply(code: int, error_ref: dict[str, str]) -> dict[str, Any]:
    reply: dict[str, Any] = {
        "description": "Error",
        "content": {"application/json": {"schema": error_ref}},
    }
    if code == 429:
        reply["description"] = "Rate limited (`rate_limited`); not executed"
        reply["headers"] = {"Retry-After": _RETRY_AFTER}
    return reply


def conservative(schema: Any) -> Any:
    """``schema`` with every fixed-length tuple rewritten as a plain bounded array.

    >>> conservative({"type": "array", "prefixItems": [{"type": "string"}] * 2,
    ...               "items": False, "minItems": 2, "maxItems": 2})
    {'type': 'array', 'items': {'type': 'string'}, 'minItems': 2, 'maxItems': 2}
    """
    if isinstance(schema, list):
        return [conservative(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: conservative(v) for k, v in schema.items()}
    prefix = out.pop("prefixItems", None)
    if prefix is not None:
        unique: list[Any] = []
        for item in prefix:
            if item not in unique:
                unique.append(item)
        out["items"] = unique[0] if len(unique) == 1 else {"anyOf": unique}
        out["minItems"] = out["maxItems"] = len(prefix)
        out = {"type": out.pop("type", "array"), "items": out.pop("items"), **out}
    return out


def build_document(routes: list[Route], server_url: str | None = None) -> dict[str, Any]:
    types: list[Any] = [Error]
    for r in routes:
        types.extend(t for t in (r.reply, r.body, r.query) if t is not None)
    unique: list[Any] = []
    for t in types:
        if t not in unique:
            unique.append(t)
    refs, raw_components = msgspec.json.schema_components(unique, ref_template=REF)
    components: dict[str, Any] = conservative(dict(raw_components))
    ref_of = dict(zip((id(t) for t in unique), refs, strict=True))
    error_ref = {"$ref": REF.format(name="Error")}

    paths: dict[str, dict[str, Any]] = {}
    for r in routes:
        op: dict[str, Any] = {
            "operationId": r.operation_id,
            "summary": r.summary,
            "tags": [r.tag],
            "parameters": _path_parameters(r)
            + ([] if r.query is None else _query_parameters(r.query, components)),
            "responses": {
                str(r.status): {
                    "description": "OK",
                    "content": {"application/json": {"schema": ref_of[id(r.reply)]}},
                },
                **{str(code): _error_reply(code, error_ref) for code in r.error_statuses},
            },
        }
        if r.body is not None:
            op["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": ref_of[id(r.body)]}},
            }
        if r.access is not Access.PUBLIC:
            op["security"] = [{"apiKey": [], "timestamp": [], "signature": []}]
            op["description"] = f"Signed; needs the `{r.access.value}` permission."
        paths.setdefault(PREFIX + r.path, {})[r.method.lower()] = op

    for r in routes:  # query Structs are documented as parameters, not as components
        if r.query is not None:
            components.pop(r.query.__name__, None)

    doc: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {"title": "openpit REST API", "version": __version__, "description": _DESCRIPTION},
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {
                "apiKey": {"type": "apiKey", "in": "header", "name": HEADER_KEY},
                "timestamp": {"type": "apiKey", "in": "header", "name": HEADER_TIMESTAMP},
                "signature": {"type": "apiKey", "in": "header", "name": HEADER_SIGNATURE},
            },
        },
    }
    if server_url is not None:
        doc["servers"] = [{"url": server_url}]
    return doc
