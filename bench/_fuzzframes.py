"""Hostile WebSocket frames for the live fuzz (``tests/reliability/test_live_fuzz.py``,
``python -m bench fuzz``): pure and seeded, no sockets.

Seeds are every client message of the golden transcripts (``tests/data/<dialect>/``: the
spec examples as written) plus our order-entry extensions (docs/dialects.md). Each frame
is one of:

- a seed with 1-3 mutations: a field replaced by a value of the wrong type, a huge or
  tiny number (``1e400``, ``10**40``, ``NaN``), a long or odd string, deep nesting
  (at most ``MAX_DEPTH``), a field deleted or added, the action swapped for another;
- raw text: empty, whitespace, scalars, truncated JSON, bracket towers (at most
  ``MAX_TOWER`` deep, past the parsers' nesting limit), a JSON array
  of messages, duplicate keys, a long string;
- a binary frame of random bytes, or a text frame whose payload is invalid UTF-8.

``Frame.kind`` is ``"text"`` (``data`` is ``str``), ``"binary"`` or ``"bad_utf8"``
(``data`` is ``bytes``; sent with the TEXT opcode). Same seed, same frames.
"""

from __future__ import annotations

import copy
import json
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
MAX_DEPTH = 300  # nesting inside mutated messages (json.dumps recurses)
MAX_TOWER = 5000  # raw bracket towers: far past the parsers' 32-level limit

EXTRA_FLAT: list[dict[str, Any]] = [
    {
        "action": "submit_order",
        "exchange": "binance",
        "symbol": "BTCUSDT",
        "side": "buy",
        "type": "limit",
        "amount": 0.001,
        "price": 1000.0,
        "time_in_force": "gtc",
        "client_order_id": "fz-1",
    },
    {
        "action": "submit_order",
        "exchange": "binance",
        "symbol": "ETHUSDT",
        "side": "sell",
        "type": "stop_limit",
        "amount": 0.01,
        "price": 900.0,
        "stop_price": 950.0,
    },
    {
        "action": "submit_order",
        "exchange": "binance",
        "symbol": "BTCUSDT",
        "side": "buy",
        "type": "market",
        "amount": 0.001,
        "leverage": 3,
    },
    {"action": "cancel_order", "order_id": "42"},
    {"action": "cancel_order", "client_order_id": "fz-1"},
    {"action": "modify_order", "order_id": "42", "amount": 0.05, "price": 1001.0},
    {"action": "ping"},
    {"action": "pong"},
]

EXTRA_ENVELOPE: dict[str, list[dict[str, Any]]] = {
    "/ws/custom": [
        {
            "action": "create_alert",
            "data": {
                "name": "fz",
                "condition": "price_above",
                "symbol": "AAPL",
                "threshold": 200.0,
                "repeat": True,
                "cooldown_ms": 1000,
            },
            "id": 7,
        },
        {"action": "list_alerts", "data": {}, "id": "l"},
        {"action": "delete_alert", "data": {"alert_id": "a-7"}, "id": "d"},
    ],
    "/ws/market-data": [{"action": "ping", "id": "p"}],
}

ODD_VALUES: list[Any] = [
    None,
    True,
    False,
    0,
    -1,
    1,
    2**31,
    2**63 - 1,
    2**63,
    -(2**63) - 1,
    10**40,
    -(10**40),
    1e20,
    1e308,
    -0.0,
    1e-300,
    0.1,
    1.5,
    "",
    " ",
    "0",
    "-1",
    "1e400",
    "-1e400",
    "1E+999999",
    "NaN",
    "Infinity",
    "-Infinity",
    "0x10",
    "1_000",
    "１２３",
    "o-99999999999999999999999",
    "order_-1",
    "a-",
    "\u0000",
    "\ud83d\udca5",
    "\u202e",
    "x" * 2000,
    [],
    {},
    [1, "a", None],
    {"a": {"b": [1]}},
    "BTCUSDT",
    "LUXURY001/XRP",
    "buy",
    "limit",
    "gtc",
]
RAW_NUMBERS = [
    "1e400",
    "-1e400",
    "1" * 400,
    "0." + "0" * 400 + "1",
    "NaN",
    "Infinity",
    "-0",
    "1E+999999",
    "9" * 25 + ".5",
]


@dataclass(frozen=True, slots=True)
class Frame:
    kind: str  # "text" | "binary" | "bad_utf8"
    data: str | bytes

    def show(self, limit: int = 300) -> str:
        text = self.data if isinstance(self.data, str) else repr(self.data)
        more = f"... ({len(text)} chars)" if len(text) > limit else ""
        return f"{self.kind}: {text[:limit]}{more}"


def load_seeds(data: Path = DATA) -> dict[str, list[dict[str, Any]]]:
    """Client messages per target: ``flat``, ``typed`` and ``envelope:<endpoint>``."""
    out: dict[str, list[dict[str, Any]]] = {"flat": list(EXTRA_FLAT), "typed": []}
    flat = json.loads((data / "flat" / "spec_000.json").read_text(encoding="utf-8"))
    for case in flat["cases"]:
        for key in ("send", "before", "after"):
            value = case.get(key)
            for msg in value if isinstance(value, list) else [value]:
                if isinstance(msg, dict) and "action" in msg:
                    out["flat"].append(msg)
    env = json.loads((data / "envelope" / "spec_001.json").read_text(encoding="utf-8"))
    for case in env["cases"]:
        out.setdefault(f"envelope:{case['endpoint']}", []).append(case["request"])
    for endpoint, extra in EXTRA_ENVELOPE.items():
        out.setdefault(f"envelope:{endpoint}", []).extend(extra)
    typed = json.loads((data / "typed" / "spec_004.json").read_text(encoding="utf-8"))
    for case in typed["cases"]:
        if case.get("kind") == "client":
            out["typed"].append(case["example"])
    return out


def _nest(depth: int, leaf: Any, rng: random.Random) -> Any:
    for _ in range(depth):
        leaf = [leaf] if rng.random() < 0.5 else {"a": leaf}
    return leaf


def _slots(value: Any, out: list[tuple[Any, Any]]) -> None:
    """Every (container, key) pair inside ``value``, depth first."""
    if isinstance(value, dict):
        for key in list(value):
            out.append((value, key))
            _slots(value[key], out)
    elif isinstance(value, list):
        for i in range(len(value)):
            out.append((value, i))
            _slots(value[i], out)


class FrameGen:
    """Seeded frames for one run; ``frame(target)`` with a key of ``load_seeds``."""

    def __init__(self, seed: int, seeds: dict[str, list[dict[str, Any]]] | None = None):
        self.rng = random.Random(seed)
        self.seeds = seeds if seeds is not None else load_seeds()
        self.actions = {
            target: sorted({str(m.get("action", m.get("type"))) for m in msgs})
            for target, msgs in self.seeds.items()
        }

    def frame(self, target: str) -> Frame:
        rng = self.rng
        roll = rng.random()
        if roll < 0.06:
            return Frame("binary", rng.randbytes(rng.randint(0, 64)))
        if roll < 0.10:
            good = json.dumps(rng.choice(self.seeds[target])).encode()
            cut = rng.randint(0, len(good))
            bad = rng.choice([b"\xff", b"\xc3\x28", b"\xed\xa0\x80", b"\xf8\x88\x80\x80\x80"])
            return Frame("bad_utf8", good[:cut] + bad + good[cut:])
        if roll < 0.22:
            return Frame("text", self._raw(target))
        msg = copy.deepcopy(rng.choice(self.seeds[target]))
        for _ in range(rng.randint(1, 3)):
            self._mutate(msg, target)
        text = json.dumps(msg)  # NaN / Infinity floats come out as bare NaN: invalid JSON
        if rng.random() < 0.15:  # a raw huge number in place of some number or string
            text = self._raw_number(text)
        return Frame("text", text)

    def _raw(self, target: str) -> str:
        rng = self.rng
        good = json.dumps(rng.choice(self.seeds[target]))
        depth = rng.randint(1, MAX_TOWER)
        choices = [
            lambda: "",
            lambda: " \n\t",
            lambda: rng.choice(["null", "true", "0", "-1", '"x"', "[]", "{}", "1e400", "NaN"]),
            lambda: good[: rng.randint(0, len(good))],
            lambda: "[" * depth + "]" * depth,
            lambda: '{"a":' * depth + "1" + "}" * depth,
            lambda: "[" * depth,
            lambda: json.dumps([rng.choice(self.seeds[target]) for _ in range(3)]),
            lambda: good[:-1] + ',"action":"x","type":"y","action":"ping"}',
            lambda: json.dumps({"action": "x" * rng.randint(1, 100_000)}),
            lambda: good.replace('"', "'"),
            lambda: good + good,
        ]
        return str(rng.choice(choices)())

    def _raw_number(self, text: str) -> str:
        rng = self.rng
        for old in ('"1000.00"', '"100.00"', "1000.0", "0.001", "100", '"995.00"', "150.0"):
            if old in text:
                return text.replace(old, rng.choice(RAW_NUMBERS), 1)
        return text

    def _mutate(self, msg: dict[str, Any], target: str) -> None:
        rng = self.rng
        slots: list[tuple[Any, Any]] = []
        _slots(msg, slots)
        roll = rng.random()
        if roll < 0.12:  # swap the action / type
            key = "action" if "action" in msg else "type"
            msg[key] = rng.choice(self.actions[target] + ["", "x", "submit_order", "place_order"])
            return
        if roll < 0.20:  # add a field
            where = rng.choice([c for c, k in slots if isinstance(c, dict)] or [msg])
            where[rng.choice(["extra", "id", "data", "price", "amount", "token", "__proto__"])] = (
                self._value()
            )
            return
        if not slots:
            msg["x"] = self._value()
            return
        container, key = rng.choice(slots)
        if roll < 0.30 and isinstance(container, dict):
            del container[key]
        elif roll < 0.36:
            container[key] = _nest(rng.randint(1, MAX_DEPTH), container[key], rng)
        else:
            container[key] = self._value()

    def _value(self) -> Any:
        rng = self.rng
        roll = rng.random()
        if roll < 0.7:
            return copy.deepcopy(rng.choice(ODD_VALUES))
        if roll < 0.8:
            return rng.uniform(-1e6, 1e6)
        if roll < 0.9:
            return "".join(chr(rng.randint(32, 0x2FFF)) for _ in range(rng.randint(0, 20)))
        return rng.randint(-(2**70), 2**70)
