"""The pure stream module: stream names, control frames and event payloads.

Payload shapes are the examples of binance-spot-api-docs (web-socket-streams.md,
user-data-stream.md): same keys, same order, decimals as strings, ids and times as
integers.
"""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from openpit.core.enums import Liquidity, OrderStatus, OrderType, Side, TimeInForce
from openpit.core.events import Fill
from openpit.gateway.dialects.binance import streams as s
from openpit.marketdata.candles import Candle
from openpit.marketdata.tape import PublicTrade
from openpit.marketdata.ticker import Ticker
from tests.binance.test_pure import BTCUSDT, update


@pytest.mark.parametrize(
    ("name", "kind", "symbol", "arg", "every"),
    [
        ("btcusdt@depth", s.Kind.DEPTH, "BTCUSDT", "", 1000),
        ("btcusdt@depth@100ms", s.Kind.DEPTH, "BTCUSDT", "", 100),
        ("btcusdt@depth@1000ms", s.Kind.DEPTH, "BTCUSDT", "", 1000),
        ("btcusdt@depth5", s.Kind.PARTIAL, "BTCUSDT", "5", 1000),
        ("btcusdt@depth20@100ms", s.Kind.PARTIAL, "BTCUSDT", "20", 100),
        ("btcusdt@trade", s.Kind.TRADE, "BTCUSDT", "", 0),
        ("btcusdt@aggTrade", s.Kind.AGG_TRADE, "BTCUSDT", "", 0),
        ("btcusdt@kline_1m", s.Kind.KLINE, "BTCUSDT", "1m", 1000),
        ("btcusdt@bookTicker", s.Kind.BOOK_TICKER, "BTCUSDT", "", 0),
        ("btcusdt@ticker", s.Kind.TICKER, "BTCUSDT", "", 1000),
        ("btcusdt@miniTicker", s.Kind.MINI_TICKER, "BTCUSDT", "", 1000),
        ("!ticker@arr", s.Kind.ALL_TICKER, "", "", 1000),
        ("!miniTicker@arr", s.Kind.ALL_MINI, "", "", 1000),
    ],
)
def test_parse_stream_documented_names_parse(
    name: str, kind: s.Kind, symbol: str, arg: str, every: int
) -> None:
    assert s.parse_stream(name) == s.Stream(name, kind, symbol, arg, every)


@pytest.mark.parametrize(
    "name",
    ["BTCUSDT@trade", "btcusdt", "btcusdt@depth7", "btcusdt@trade@100ms", "btcusdt@kline_2m",
     "btcusdt@depth@250ms", "@trade", "btcusdt@nope", "btcusdt@depth@100ms@x"],
)  # fmt: skip
def test_parse_stream_unknown_names_are_refused(name: str) -> None:
    with pytest.raises(s.BadStream):
        s.parse_stream(name)


def test_parse_control_doc_subscribe_parses() -> None:
    c = s.parse_control(
        '{"method":"SUBSCRIBE","params":["btcusdt@aggTrade","btcusdt@depth"],"id":1}'
    )
    assert (c.method, c.params, c.id) == ("SUBSCRIBE", ["btcusdt@aggTrade", "btcusdt@depth"], 1)
    assert s.control_result(1) == b'{"result":null,"id":1}'
    assert s.control_result(3, ["btcusdt@aggTrade"]) == b'{"result":["btcusdt@aggTrade"],"id":3}'


@pytest.mark.parametrize(
    ("frame", "code"),
    [("not json", 3), ('{"method":"FOO","id":1}', 2),
     ('{"method":"SUBSCRIBE","params":[1],"id":1}', 1), ('{"params":[]}', 2)],
)  # fmt: skip
def test_parse_control_bad_frames_get_the_documented_codes(frame: str, code: int) -> None:
    with pytest.raises(s.ControlError) as exc:
        s.parse_control(frame)
    assert exc.value.code == code
    body = json.loads(s.control_error(exc.value.code, exc.value.msg, exc.value.request_id))
    assert set(body) == {"error", "id"} and body["error"]["code"] == code


def test_combined_wraps_payload_as_stream_and_data() -> None:
    out = json.loads(s.combined("btcusdt@trade", b'{"e":"trade"}'))
    assert out == {"stream": "btcusdt@trade", "data": {"e": "trade"}}


def test_depth_update_has_the_doc_keys_and_decimal_strings() -> None:
    out = json.loads(
        s.depth_update(BTCUSDT, 157, 160, [(4_268_471, 1_533_200)], [(4_271_000, 0)], 1672515782136)
    )
    assert list(out) == ["e", "E", "s", "U", "u", "b", "a"]
    assert out["U"] == 157 and out["u"] == 160 and out["s"] == "BTCUSDT"
    assert out["b"] == [["42684.71000000", "15.33200000"]]
    assert out["a"] == [["42710.00000000", "0.00000000"]]  # quantity 0 deletes the level


def test_partial_depth_has_last_update_id_bids_asks() -> None:
    out = json.loads(s.partial_depth(BTCUSDT, 160, [(100, 1)], [(101, 2)]))
    assert out == {
        "lastUpdateId": 160,
        "bids": [["1.00000000", "0.00001000"]],
        "asks": [["1.01000000", "0.00002000"]],
    }


TRADE = PublicTrade(
    instrument="BTCUSDT", trade_id=12345, price=100, qty=100_000, taker_side=Side.SELL,
    ts=1672515782136, sequence=1,
)  # fmt: skip


def test_trade_and_agg_trade_events_have_the_doc_keys() -> None:
    t = json.loads(s.trade(BTCUSDT, TRADE, 1672515782137))
    assert list(t) == ["e", "E", "s", "t", "p", "q", "T", "m", "M"]
    assert (t["e"], t["t"], t["p"], t["q"], t["m"]) == (
        "trade",
        12345,
        "1.00000000",
        "1.00000000",
        True,
    )
    a = json.loads(s.agg_trade(BTCUSDT, TRADE, 1672515782137))
    assert list(a) == ["e", "E", "s", "a", "p", "q", "f", "l", "T", "m", "M"]
    assert (a["a"], a["f"], a["l"]) == (12345, 12345, 12345)


def test_kline_event_has_the_doc_keys() -> None:
    c = Candle(
        instrument="BTCUSDT", interval="1m", start=60_000, end=120_000, open=100, high=120,
        low=90, close=110, volume=100_000, quote_volume=110_000_000, trades=3, closed=False,
    )  # fmt: skip
    out = json.loads(s.kline(BTCUSDT, c, 61_000))
    assert (out["e"], out["E"], out["s"]) == ("kline", 61_000, "BTCUSDT")
    k = out["k"]
    assert list(k) == ["t", "T", "s", "i", "f", "L", "o", "c", "h", "l", "v", "n", "x", "q",
                       "V", "Q", "B"]  # fmt: skip
    assert (k["t"], k["T"], k["i"], k["o"], k["c"], k["x"]) == (
        60_000, 119_999, "1m", "1.00000000", "1.10000000", False,
    )  # fmt: skip
    assert k["v"] == "1.00000000" and k["q"] == "1.10000000" and k["n"] == 3


TICKER = Ticker(
    instrument="BTCUSDT", last_price=250, last_qty=100_000, bid=240, bid_qty=100_000, ask=260,
    ask_qty=200_000, open=100, high=250, low=100, volume=1_000_000, quote_volume=1_800_000_000,
    trades=18151, change=150, change_ppm=1_500_000, ts=86_400_000,
)  # fmt: skip


def test_ticker_events_have_the_doc_keys() -> None:
    full = json.loads(s.ticker(BTCUSDT, TICKER, 86_400_001))
    assert list(full) == ["e", "E", "s", "p", "P", "w", "x", "c", "Q", "b", "B", "a", "A", "o",
                          "h", "l", "v", "q", "O", "C", "F", "L", "n"]  # fmt: skip
    assert (full["e"], full["c"], full["p"], full["P"]) == (
        "24hrTicker",
        "2.50000000",
        "1.50000000",
        "150.000",
    )
    assert (full["O"], full["C"], full["n"]) == (0, 86_400_000, 18151)
    mini = json.loads(s.ticker(BTCUSDT, TICKER, 86_400_001, mini=True))
    assert list(mini) == ["e", "E", "s", "c", "o", "h", "l", "v", "q"]
    assert mini["e"] == "24hrMiniTicker"
    arr = json.loads(s.all_tickers([(BTCUSDT, TICKER)], 1, mini=True))
    assert isinstance(arr, list) and arr[0]["s"] == "BTCUSDT"
    bt = json.loads(s.book_ticker(BTCUSDT, TICKER, 400900217))
    assert bt == {"u": 400900217, "s": "BTCUSDT", "b": "2.40000000", "B": "1.00000000",
                  "a": "2.60000000", "A": "2.00000000"}  # fmt: skip


EXEC_KEYS = ["e", "E", "s", "c", "S", "o", "f", "q", "p", "P", "F", "g", "C", "x", "X", "r",
             "i", "l", "z", "L", "n", "N", "T", "t", "I", "w", "m", "M", "O", "Z", "Y", "Q",
             "W", "V"]  # fmt: skip


def test_execution_report_new_order_has_every_doc_field() -> None:
    u = update(type=OrderType.LIMIT, status=OrderStatus.NEW, price=4_000_000, filled=0,
               remaining=1_000_000, tif=TimeInForce.GTC)  # fmt: skip
    out = s.execution_report(BTCUSDT, u, None, 1499405658658, "NONE")
    assert list(out) == EXEC_KEYS
    assert (out["x"], out["X"], out["o"], out["S"], out["t"], out["N"]) == (
        "NEW", "NEW", "LIMIT", "SELL", -1, None,
    )  # fmt: skip
    assert (out["p"], out["q"], out["z"], out["w"]) == (
        "40000.00000000",
        "10.00000000",
        "0.00000000",
        True,
    )


def test_execution_report_fill_carries_last_qty_commission_and_maker_flag() -> None:
    u = update(type=OrderType.LIMIT, status=OrderStatus.PARTIALLY_FILLED, price=4_000_000,
               filled=100_000, remaining=900_000, filled_value=4_000_000 * 100_000,
               last_fill_qty=100_000, last_fill_price=4_000_000)  # fmt: skip
    fill = Fill(
        user="alice", instrument="BTCUSDT", order_id=28, client_order_id=None, trade_id=77,
        side=Side.SELL, price=4_000_000, qty=100_000, liquidity=Liquidity.MAKER,
        fee=int(Decimal("0.04") * 10**8), fee_asset="USDT", fee_rate_ppm=1000,
    )  # fmt: skip
    out = s.execution_report(BTCUSDT, u, fill, 1, "NONE")
    assert (out["x"], out["X"], out["l"], out["L"], out["t"], out["m"]) == (
        "TRADE", "PARTIALLY_FILLED", "1.00000000", "40000.00000000", 77, True,
    )  # fmt: skip
    assert (out["n"], out["N"], out["Z"], out["Y"]) == (
        "0.04000000", "USDT", "40000.00000000", "40000.00000000",
    )  # fmt: skip


@pytest.mark.parametrize(
    ("status", "x", "big_x"),
    [(OrderStatus.CANCELLED, "CANCELED", "CANCELED"), (OrderStatus.EXPIRED, "EXPIRED", "EXPIRED"),
     (OrderStatus.REJECTED, "REJECTED", "REJECTED"), (OrderStatus.PENDING, "NEW", "NEW")],
)  # fmt: skip
def test_execution_report_status_transitions_map_as_binance(
    status: OrderStatus, x: str, big_x: str
) -> None:
    out = s.execution_report(BTCUSDT, update(status=status), None, 1, "NONE")
    assert (out["x"], out["X"]) == (x, big_x)
    assert ("W" in out) is (status is not OrderStatus.PENDING)  # only once on the book


def test_account_position_lists_changed_assets() -> None:
    out = s.account_position({"ETH": ("10000.000000", "0.000000")}, 1564034571073, 1564034571105)
    assert out == {
        "e": "outboundAccountPosition",
        "E": 1564034571105,
        "u": 1564034571073,
        "B": [{"a": "ETH", "f": "10000.000000", "l": "0.000000"}],
    }
    assert json.loads(s.listen_key_expired("k", 5)) == {
        "e": "listenKeyExpired",
        "E": 5,
        "listenKey": "k",
    }


def test_balance_update_has_the_doc_keys() -> None:
    out = s.balance_update("BTC", "100.00000000", 1573200697110)
    assert out == {"e": "balanceUpdate", "E": 1573200697110, "a": "BTC", "d": "100.00000000",
                   "T": 1573200697110}  # fmt: skip
