"""The order frames of the three dialects, as the load clients of ``bench/orders.py`` send
and read them (and the same frames, echoed, for the echo baseline).

Every request carries a tag the reply echoes, so replies are matched to requests without
relying on their order: flat ``client_order_id`` (cancel replies carry the order ``id``),
envelope the request ``id``, typed ``clientOrderId`` (cancel replies echo ``orderId``).

``classify(msg)`` answers ``(kind, key, ref)``: ``kind`` is ``placed``, ``cancelled``,
``error`` or ``other`` (streams, heartbeats: ignored); ``key`` is the tag the request was
registered under; ``ref`` is the order reference to cancel a placed order with.
``classify_echo(msg)`` does the same for a request frame coming back from the echo server.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

SYMBOL = "BTCUSDT"
PAIR = "BTC/USDT"
EXCHANGE = "binance"
QTY = "0.00100"

Classified = tuple[str, str | None, str | None]


def _sig(secret: str, key: str, ts: int) -> str:
    return hmac.new(secret.encode(), (key + str(ts)).encode(), hashlib.sha256).hexdigest()


class Flat:
    name = "flat"
    path = "/ws"
    md_path = "/ws"
    subscribe = json.dumps(
        {
            "action": "subscribe",
            "channels": ["orderbook", "trades"],
            "params": {"exchange": EXCHANGE, "symbols": [SYMBOL]},
        }
    )

    @staticmethod
    def auth(cred: dict[str, str]) -> str:
        ts = time.time_ns() // 1_000_000
        key = cred["api_key"]
        return json.dumps(
            {
                "action": "authenticate",
                "api_key": key,
                "timestamp": ts,
                "signature": _sig(cred["api_secret"], key, ts),
            }
        )

    @staticmethod
    def auth_ok(msg: dict[str, Any]) -> bool:
        return msg.get("event") == "authenticated" and msg.get("success") is True

    @staticmethod
    def place(tag: str, side: str, price: str) -> str:
        return (
            '{"action":"submit_order","exchange":"binance","symbol":"BTCUSDT","side":"'
            + side
            + f'","type":"limit","amount":{QTY},"price":{price},"time_in_force":"gtc",'
            + f'"client_order_id":"{tag}"'
            + "}"
        )

    @staticmethod
    def cancel(ref: str) -> tuple[str, str]:
        return '{"action":"cancel_order","order_id":"' + ref + '"}', ref

    @staticmethod
    def classify(msg: dict[str, Any]) -> Classified:
        event = msg.get("event")
        if event == "order_accepted":
            if msg.get("status") != "new":
                return "error", msg.get("client_order_id"), None
            return "placed", msg["client_order_id"], msg["id"]
        if event == "order_cancelled":
            return "cancelled", msg["id"], None
        if event == "error":
            return "error", msg.get("client_order_id"), None
        return "other", None, None

    @staticmethod
    def classify_echo(msg: dict[str, Any]) -> Classified:
        if msg["action"] == "submit_order":
            tag = msg["client_order_id"]
            return "placed", tag, "9" + tag[1:]
        return "cancelled", msg["order_id"], None


class Envelope:
    name = "envelope"
    path = "/ws/trading"
    md_path = "/ws/market-data"
    subscribe = json.dumps(
        {
            "action": "subscribe",
            "data": {"channels": [f"trades:{SYMBOL}", f"orderbook:{SYMBOL}:10"]},
        }
    )

    @staticmethod
    def auth(cred: dict[str, str]) -> str:
        ts = time.time_ns() // 1_000_000
        key = cred["api_key"]
        return json.dumps(
            {
                "action": "authenticate",
                "data": {
                    "api_key": key,
                    "signature": _sig(cred["api_secret"], key, ts),
                    "timestamp": ts,
                },
                "id": "auth",
            }
        )

    @staticmethod
    def auth_ok(msg: dict[str, Any]) -> bool:
        return msg.get("type") == "auth_response" and msg.get("status") == "success"

    @staticmethod
    def place(tag: str, side: str, price: str) -> str:
        # no client_order_id, as the spec's example: the request id becomes the default one
        return (
            '{"action":"submit_order","data":{"symbol":"BTCUSDT","side":"'
            + side
            + f'","type":"limit","quantity":{QTY},"price":{price},"time_in_force":"gtc"'
            + '},"id":"'
            + tag
            + '"}'
        )

    @staticmethod
    def cancel(ref: str) -> tuple[str, str]:
        key = "x" + ref
        return '{"action":"cancel_order","data":{"order_id":"' + ref + '"},"id":"' + key + '"}', key

    @staticmethod
    def classify(msg: dict[str, Any]) -> Classified:
        kind = msg.get("type")
        if kind == "order_response":
            data = msg["data"]
            status = data.get("status")
            if status == "accepted" and data.get("order_status") in (None, "new"):
                return "placed", msg.get("id"), data["order_id"]
            if status == "cancelled":
                return "cancelled", msg.get("id"), None
            return "error", msg.get("id"), None
        if kind == "error":
            return "error", msg.get("id"), None
        return "other", None, None

    @staticmethod
    def classify_echo(msg: dict[str, Any]) -> Classified:
        if msg["action"] == "submit_order":
            tag = msg["id"]
            return "placed", tag, "o-9" + tag[1:]
        return "cancelled", msg["id"], None


class Typed:
    name = "typed"
    path = "/"
    md_path = "/"
    subscribe = json.dumps(
        {
            "type": "subscribe",
            "channels": [{"type": "orderbook", "pair": PAIR}, {"type": "trades", "pair": PAIR}],
        }
    )

    @staticmethod
    def auth(cred: dict[str, str]) -> str:
        return json.dumps({"type": "authenticate", "token": cred["token"]})

    @staticmethod
    def auth_ok(msg: dict[str, Any]) -> bool:
        return msg.get("type") == "authenticated"

    @staticmethod
    def place(tag: str, side: str, price: str) -> str:
        return (
            '{"type":"place_order","orderType":"limit","orderData":{"pair":"BTC/USDT","side":"'
            + side
            + f'","amount":"{QTY}","price":"{price}","timeInForce":"GTC","clientOrderId":"{tag}"'
            + "}}"
        )

    @staticmethod
    def cancel(ref: str) -> tuple[str, str]:
        return '{"type":"cancel_order","orderId":"' + ref + '"}', ref

    @staticmethod
    def classify(msg: dict[str, Any]) -> Classified:
        kind = msg.get("type")
        if kind == "order_placed":
            result = msg["result"]
            if result.get("status") != "pending":
                return "error", result.get("clientOrderId"), None
            return "placed", result.get("clientOrderId"), result["orderId"]
        if kind == "order_cancelled":
            return "cancelled", msg.get("orderId"), None
        if kind == "error":
            return "error", msg.get("orderId"), None
        return "other", None, None

    @staticmethod
    def classify_echo(msg: dict[str, Any]) -> Classified:
        if msg["type"] == "place_order":
            tag = msg["orderData"]["clientOrderId"]
            return "placed", tag, "order_9" + tag[1:]
        return "cancelled", msg["orderId"], None


DIALECTS: dict[str, Any] = {d.name: d for d in (Flat, Envelope, Typed)}
