"""End to end over real sockets: order entry, private streams, ledger-exact balances,
a local order book from snapshot + deltas, custom alerts to their owner only."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from tests.gateway.envelope.helpers import CUSTOM, MARKET, TRADING, EClient, envelope_env
from tests.gateway.helpers import run_async


def _submit(side: str, qty: int, price: str, cid: str | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {
        "symbol": "AAPL",
        "side": side,
        "type": "limit",
        "quantity": qty,
        "price": float(price),
        "time_in_force": "gtc",
    }
    if cid is not None:
        data["client_order_id"] = cid
    return {"action": "submit_order", "data": data}


def _ok(reply: dict[str, Any], status: str) -> dict[str, Any]:
    assert reply["type"] == "order_response" and reply["data"]["status"] == status, reply
    data: dict[str, Any] = reply["data"]
    return data


class LocalBook:
    """A client's book, maintained from the snapshot and the updates only."""

    def __init__(self) -> None:
        self.sides: dict[str, dict[Decimal, Decimal]] = {"bids": {}, "asks": {}}
        self.sequence: int | None = None

    def apply(self, m: dict[str, Any]) -> None:
        data = m["data"]
        if m["type"] == "orderbook":
            self.sides = {s: {} for s in ("bids", "asks")}
            self.sequence = data["sequence"]
        else:
            assert data["prev_sequence"] == self.sequence, (data, self.sequence)
            assert data["sequence"] == self.sequence + 1
            self.sequence = data["sequence"]
        for side in ("bids", "asks"):
            for price, qty in data[side]:
                p, q = Decimal(str(price)), Decimal(str(qty))
                if q == 0:
                    self.sides[side].pop(p, None)
                else:
                    self.sides[side][p] = q

    def top(self, side: str, depth: int) -> list[tuple[Decimal, Decimal]]:
        levels = sorted(self.sides[side].items(), reverse=side == "bids")
        return levels[:depth]


@run_async
async def test_envelope_order_entry_streams_and_balances_match_ledger() -> None:
    async with envelope_env() as env:
        md = await env.client(MARKET)
        await md.subscribe("orderbook:AAPL:3", "trades:AAPL")
        alice = await env.login(TRADING, "alice")
        await alice.subscribe("user_orders", "user_trades", "account_updates")
        bob = await env.login(TRADING, "bob")
        await bob.subscribe("user_orders")

        placed = _ok(await alice.request(_submit("buy", 100, "150.00", "a-1")), "accepted")
        oid = placed["order_id"]
        assert oid.startswith("o-") and placed["client_id"] == "a-1"
        second = _ok(await alice.request(_submit("buy", 10, "149.00")), "accepted")
        modified = await alice.request(
            {"action": "modify_order", "data": {"order_id": oid, "quantity": 80, "price": 150.10}}
        )
        assert _ok(modified, "modified")["quantity"] == 80
        # bob sells into it: alice's order partially fills
        _ok(await bob.request(_submit("sell", 30, "150.10")), "accepted")
        batch = await alice.request(
            {
                "action": "batch_orders",
                "data": {
                    "operations": [
                        {
                            "operation": "submit",
                            "symbol": "AAPL",
                            "side": "buy",
                            "type": "limit",
                            "quantity": 5,
                            "price": 148.00,
                            "client_order_id": "b-1",
                        },
                        {"operation": "cancel", "order_id": "o-99999"},
                        {"operation": "bogus"},
                        {"operation": "modify", "order_id": second["order_id"], "quantity": 5},
                    ]
                },
            }
        )
        results = batch["data"]["results"]
        assert [r["status"] for r in results] == ["accepted", "error", "error", "modified"]
        assert results[1]["error"]["code"] == "order_not_found"
        assert results[2]["error"]["code"] == "invalid_parameter"
        _ok(await alice.request({"action": "cancel_order", "data": {"order_id": oid}}), "cancelled")
        reply = await alice.request({"action": "cancel_order", "data": {"client_order_id": "b-1"}})
        assert _ok(reply, "cancelled")["client_id"] == "b-1"
        await alice.drain()
        await md.drain()
        await bob.drain()

        updates = alice.of_type("order_update")
        mine = [u for u in updates if u["data"]["order_id"] == oid]
        assert [u["data"]["status"] for u in mine] == [
            "new",
            "new",
            "partially_filled",
            "cancelled",
        ]
        assert mine[2]["data"]["filled_quantity"] == 30
        assert all(u["data"]["symbol"] == "AAPL" for u in updates)
        bob_ids = {u["data"]["order_id"] for u in bob.of_type("order_update")}
        assert bob_ids and oid not in bob_ids  # bob only ever sees his own order
        fills = alice.of_type("user_trade")
        assert len(fills) == 1 and fills[0]["data"]["quantity"] == 30
        assert fills[0]["data"]["order_id"] == oid and fills[0]["data"]["price"] == 150.10
        # the last account update equals the ledger, to the unit
        last = alice.of_type("account_update")[-1]["data"]
        ledger = env.venue.ledger.balances("alice")
        for row in last["balances"]:
            asset = env.config.assets[row["currency"]]
            avail, reserved = ledger[row["currency"]]
            assert Decimal(str(row["available"])) == asset.from_units(avail)
            assert Decimal(str(row["reserved"])) == asset.from_units(reserved)
            assert Decimal(str(row["total"])) == asset.from_units(avail + reserved)
        assert len(last["balances"]) == len(ledger)
        aapl = [p for p in last["positions"] if p["symbol"] == "AAPL"]
        assert aapl and aapl[0]["quantity"] == 30
        # the market-data client's local book is the server's top 3
        book = LocalBook()
        for m in md.seen:
            if m.get("channel") == "orderbook:AAPL:3":
                book.apply(m)
        snap = env.marketdata.book_snapshot("AAPL", 3)
        inst = env.config.instruments["AAPL"]
        for side, levels in (("bids", snap.bids), ("asks", snap.asks)):
            want = [(inst.ticks_to_price(p), inst.lots_to_qty(q)) for p, q in levels]
            assert book.top(side, 3) == want
        assert book.sequence == snap.sequence and book.sequence is not None
        assert len(md.of_type("trade")) == 1


@run_async
async def test_envelope_local_book_survives_many_changes_at_depth() -> None:
    async with envelope_env() as env:
        md = await env.client(MARKET)
        await md.subscribe("orderbook:AAPL:2")
        bob = await env.login(TRADING, "bob")
        alice = await env.login(TRADING, "alice")
        for i, price in enumerate(["150.00", "150.05", "149.95", "150.10", "149.90"]):
            await bob.request(_submit("sell", 10 + i, str(Decimal(price) + 1)))
            await alice.request(_submit("buy", 10 + i, price))
        await bob.request(_submit("sell", 25, "149.95"))  # sweeps two bid levels
        await alice.request(_submit("buy", 5, "151.00"))
        await md.drain()
        book = LocalBook()
        for m in md.seen:
            if m.get("channel") == "orderbook:AAPL:2":
                book.apply(m)
        snap = env.marketdata.book_snapshot("AAPL", 2)
        inst = env.config.instruments["AAPL"]
        assert book.top("bids", 2) == [
            (inst.ticks_to_price(p), inst.lots_to_qty(q)) for p, q in snap.bids
        ]
        assert book.top("asks", 2) == [
            (inst.ticks_to_price(p), inst.lots_to_qty(q)) for p, q in snap.asks
        ]


@run_async
async def test_envelope_custom_alerts_fire_to_their_owner_only() -> None:
    async with envelope_env() as env:
        alice: EClient = await env.login(CUSTOM, "alice")
        bob: EClient = await env.login(CUSTOM, "bob")
        for c in (alice, bob):
            await c.subscribe("custom_alerts")
        seller = await env.login(TRADING, "bob")
        buyer = await env.login(TRADING, "alice")
        await seller.request(_submit("sell", 1, "149.00"))
        await buyer.request(_submit("buy", 1, "149.00"))
        created = await alice.request(
            {
                "action": "create_alert",
                "data": {
                    "name": "AAPL up",
                    "condition": "price_above",
                    "symbol": "AAPL",
                    "threshold": 150.00,
                },
            }
        )
        assert created["type"] == "alert_response" and created["data"]["status"] == "created"
        alert_id = created["data"]["alert"]["alert_id"]
        listed = await alice.request({"action": "list_alerts", "data": {}})
        assert [a["alert_id"] for a in listed["data"]["alerts"]] == [alert_id]
        assert (await bob.request({"action": "list_alerts"}))["data"]["alerts"] == []
        reply = await bob.request({"action": "delete_alert", "data": {"alert_id": alert_id}})
        assert reply["type"] == "error"  # not bob's
        await seller.request(_submit("sell", 1, "150.25"))
        await buyer.request(_submit("buy", 1, "150.25"))
        fired = await alice.expect(lambda m: m.get("type") == "custom_alert")
        assert fired["data"]["alert_id"] == alert_id and fired["data"]["current_value"] == 150.25
        await bob.drain()
        assert not bob.of_type("custom_alert")
        gone = await alice.request({"action": "list_alerts", "data": {}})
        assert gone["data"]["alerts"] == []  # one-shot: done
