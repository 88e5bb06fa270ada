"""Property fuzzing of each dialect's pure parser: whatever a client sends, ``head`` and
``parse`` return (a request, or a ``BadRequest`` the dialect renders as its error),
never raise.

Inputs: the spec's messages with fields replaced (wrong types, huge and tiny numbers,
NaN/Infinity as literals and strings, negative and zero quantities, deep nesting),
deleted or added; frames that are not JSON (empty, binary, invalid UTF-8, truncated);
unknown actions. Bounded: a few hundred examples per property, no deadline (the box is
shared; a slow example is not a failure).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from openpit.gateway.dialects import envelope, flat, typed
from openpit.gateway.dialects.envelope.tables import ENDPOINTS
from openpit.gateway.model import BadRequest, Head, Request

FUZZ = settings(
    max_examples=250,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

FLAT = [
    {"action": "authenticate", "api_key": "k", "timestamp": 1647356789123, "signature": "s"},
    {
        "action": "subscribe",
        "channels": ["market_data", "orderbook", "orders"],
        "params": {"exchange": "binance", "symbols": ["BTCUSDT"], "type": "ticker", "depth": 10},
    },
    {"action": "unsubscribe", "channels": ["positions"], "params": {"symbols": ["BTCUSDT"]}},
    {
        "action": "submit_order",
        "exchange": "binance",
        "symbol": "BTCUSDT",
        "side": "buy",
        "type": "limit",
        "amount": 0.1,
        "price": 42500.0,
        "time_in_force": "gtc",
        "client_order_id": "my-1",
        "leverage": 1,
    },
    {"action": "cancel_order", "order_id": "42", "symbol": "BTCUSDT"},
    {"action": "modify_order", "order_id": 42, "amount": 0.2, "price": 42000.0},
    {"action": "ping"},
    {"action": "pong", "timestamp": 1647356789126},
]
ENVELOPE = [
    {
        "action": "authenticate",
        "data": {"api_key": "k", "timestamp": 1625097600000, "signature": "s"},
        "id": "auth-1",
    },
    {"action": "subscribe", "data": {"channels": ["trades:AAPL", "orderbook:AAPL:10"]}, "id": 1},
    {"action": "unsubscribe", "data": {"channels": ["candles:AAPL:1m", "user_orders"]}},
    {
        "action": "submit_order",
        "data": {
            "symbol": "AAPL",
            "side": "buy",
            "type": "limit",
            "quantity": 100,
            "price": 150.0,
            "time_in_force": "gtc",
            "client_order_id": "c-1",
        },
        "id": "order-1",
    },
    {"action": "cancel_order", "data": {"order_id": "o-12345"}, "id": "c"},
    {"action": "modify_order", "data": {"order_id": "o-1", "quantity": 50, "price": 151}},
    {
        "action": "batch_orders",
        "data": {
            "operations": [
                {
                    "operation": "submit",
                    "symbol": "AAPL",
                    "side": "buy",
                    "type": "market",
                    "quantity": 1,
                },
                {"operation": "cancel", "order_id": "o-2"},
            ]
        },
        "id": "b",
    },
    {
        "action": "create_alert",
        "data": {"condition": "price_above", "symbol": "AAPL", "threshold": 200, "name": "x"},
    },
    {"action": "delete_alert", "data": {"alert_id": "a-1"}},
    {"action": "list_alerts", "id": "l"},
    {"action": "ping", "id": "p"},
]
TYPED = [
    {"type": "authenticate", "token": "your-jwt-token"},
    {
        "type": "subscribe",
        "channels": [
            {"type": "orderbook", "pair": "LUXURY001/XRP", "depth": 10},
            "portfolio",
            "price_XRP",
        ],
    },
    {"type": "unsubscribe", "channels": ["orderbook_LUXURY001/XRP"]},
    {
        "type": "place_order",
        "orderType": "limit",
        "orderData": {"pair": "LUXURY001/XRP", "side": "buy", "amount": "1.00", "price": "950"},
    },
    {
        "type": "place_order",
        "orderType": "oco",
        "orderData": {
            "pair": "LUXURY001/XRP",
            "side": "sell",
            "amount": "1",
            "targetPrice": "1100",
            "stopPrice": "900",
            "limitPrice": "895",
        },
    },
    {
        "type": "place_order",
        "orderType": "stop_loss",
        "orderData": {"pair": "BTC/USDT", "side": "sell", "amount": "1", "stopPrice": "9"},
    },
    {"type": "cancel_order", "orderId": "order_123456789"},
    {"type": "ping"},
    {"type": "connection_stats"},
]


@dataclass(frozen=True)
class Lit:
    """A JSON value written exactly as ``text`` (numbers JSON's encoder would not make)."""

    text: str


NUMBERS = [
    "0", "-0", "-1", "0.0", "-0.5", "1e400", "-1e400", "1E+999999", "1e-400",
    "9" * 400, "-" + "9" * 400, "0." + "0" * 400 + "1", "1" + "0" * 60, "18446744073709551616",
    "9223372036854775808", "-9223372036854775809", "NaN", "Infinity", "-Infinity", "1e3",
    '"NaN"', '"Infinity"', '"-inf"', '"sNaN"', '"1e400"', '"-1"', '"0"', '"' + "9" * 60 + '"',
    '"1E+999999999999999999"', '"\\u00b2"', '"o-' + "9" * 30 + '"', '"order_1e5"',
]  # fmt: skip
DEEP = [Lit("[" * n + "]" * n) for n in (31, 32, 33, 200, 2000)] + [
    Lit('{"a":' * n + "1" + "}" * n) for n in (33, 1000)
]

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
values = st.one_of(
    json_values,
    st.sampled_from([Lit(n) for n in NUMBERS]),
    st.sampled_from(DEEP),
    st.sampled_from(["limit", "market", "buy", "sell", "", "fly", "ticker", "submit"]),
)


def dump(value: Any) -> str:
    if isinstance(value, Lit):
        return value.text
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(k)}:{dump(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ",".join(dump(v) for v in value) + "]"
    return json.dumps(value)


def _paths(message: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every key/index path inside ``message`` (so nested fields get mutated too)."""
    out = []
    items = message.items() if isinstance(message, dict) else enumerate(message)
    for key, value in items:
        out.append((*prefix, key))
        if isinstance(value, dict | list):
            out.extend(_paths(value, (*prefix, key)))
    return out


def _mutate(message: Any, data: st.DataObject) -> Any:
    message = json.loads(json.dumps(message))  # a private copy
    for _ in range(data.draw(st.integers(1, 3), label="mutations")):
        paths = _paths(message)
        if not paths:
            break
        path = data.draw(st.sampled_from(paths), label="path")
        parent = message
        for key in path[:-1]:
            parent = parent[key]
        how = data.draw(st.sampled_from(["replace", "delete", "add"]), label="how")
        if how == "replace":
            parent[path[-1]] = data.draw(values, label="value")
        elif how == "delete":
            del parent[path[-1]]
        elif isinstance(parent, dict):
            parent[data.draw(st.text(max_size=12), label="key")] = data.draw(values)
        else:
            parent.append(data.draw(values, label="item"))
    return message


Dialect = tuple[str, ModuleType, list[dict[str, Any]]]
DIALECTS: list[Dialect] = [
    ("flat", flat, FLAT),
    ("envelope", envelope, ENVELOPE),
    ("typed", typed, TYPED),
]


def _check(module: ModuleType, frame: str | bytes) -> Request:
    head = module.head(frame)
    assert isinstance(head, Head) and head.category in ("auth", "subscribe", "order", "other")
    request: Request = module.parse(frame)
    assert isinstance(request, Request)  # type: ignore[arg-type]
    if module is envelope:
        for endpoint in ENDPOINTS:
            for authenticated in (False, True):
                screened = envelope.screen(endpoint, request, authenticated)
                assert isinstance(screened, Request)  # type: ignore[arg-type]
    if isinstance(request, BadRequest):  # an error in the dialect's own shape
        reply = json.loads(module.render_error(request.kind, request.message, 1, request))
        assert isinstance(reply, dict) and reply
    return request


@pytest.mark.parametrize(("name", "module", "samples"), DIALECTS, ids=[d[0] for d in DIALECTS])
@FUZZ
@given(data=st.data())
def test_parser_spec_message_mutated_yields_request_or_error(
    name: str, module: ModuleType, samples: list[dict[str, Any]], data: st.DataObject
) -> None:
    sample = data.draw(st.sampled_from(samples), label="sample")
    text = dump(_mutate(sample, data))
    _check(module, text)
    _check(module, text.encode())


@pytest.mark.parametrize(("name", "module", "samples"), DIALECTS, ids=[d[0] for d in DIALECTS])
@FUZZ
@given(
    frame=st.one_of(
        st.binary(max_size=300),
        st.text(max_size=300),
        st.just(b""),
        st.just(""),
        st.sampled_from([b"\xff\xfe{}", b'{"action":"\xc3\x28"}', b'{"type":"\xed\xa0\x80"}']),
        st.builds(lambda d: dump(d), json_values),
        st.sampled_from(DEEP).map(lambda lit: lit.text),
    )
)
def test_parser_arbitrary_bytes_yield_request_or_error(
    name: str, module: ModuleType, samples: list[dict[str, Any]], frame: str | bytes
) -> None:
    _check(module, frame)


@pytest.mark.parametrize(("name", "module", "samples"), DIALECTS, ids=[d[0] for d in DIALECTS])
@FUZZ
@given(data=st.data())
def test_parser_valid_message_truncated_or_unknown_action_is_an_error(
    name: str, module: ModuleType, samples: list[dict[str, Any]], data: st.DataObject
) -> None:
    text = json.dumps(data.draw(st.sampled_from(samples)))
    cut = data.draw(st.integers(0, len(text) - 1), label="cut")
    assert isinstance(_check(module, text[:cut]), BadRequest)
    key = "type" if module is typed else "action"
    unknown = {key: data.draw(st.text(min_size=1, max_size=20).filter(_not_known(module)))}
    assert isinstance(_check(module, json.dumps(unknown)), BadRequest)


def _not_known(module: ModuleType) -> Callable[[str], bool]:
    known = set(flat._ACTIONS) | set(envelope.tables._ACTIONS) | set(typed.TYPES)
    return lambda action: action not in known


@pytest.mark.parametrize(("name", "module", "samples"), DIALECTS, ids=[d[0] for d in DIALECTS])
def test_parser_every_spec_sample_parses_to_a_request(
    name: str, module: ModuleType, samples: list[dict[str, Any]]
) -> None:
    for sample in samples:
        request = _check(module, json.dumps(sample))
        assert not isinstance(request, BadRequest), (sample, request)
