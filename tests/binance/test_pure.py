"""The pure modules of the Binance surface, on data from Binance's own documentation.

Examples come from binance-spot-api-docs (rest-api.md, errors.md, filters.md): the HMAC
signing walkthrough, the depth / trades / klines / new-order response payloads.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from openpit.binance import errors as e
from openpit.binance import render
from openpit.binance.exchange import filters, symbol_info
from openpit.binance.limits import OrderCounter, WeightLimiter
from openpit.binance.request import (
    check_signature,
    check_timing,
    new_order,
    signed_payload,
    split_params,
)
from openpit.binance.symbols import Listing, SymbolClash, SymbolMap
from openpit.config import load_demo_config
from openpit.core.enums import (
    InstrumentKind,
    Liquidity,
    OrderStatus,
    OrderType,
    Side,
    STPMode,
    TimeInForce,
)
from openpit.core.events import Fill, OrderUpdate
from openpit.core.instrument import Asset, Instrument
from openpit.marketdata.book import BookSnapshot
from openpit.marketdata.candles import Candle
from openpit.marketdata.tape import PublicTrade

# rest-api.md, "SIGNED Endpoint Examples for POST /api/v3/order"
DOC_SECRET = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"
DOC_PAYLOAD = (
    "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1"
    "&recvWindow=5000&timestamp=1499827319559"
)
DOC_SIGNATURE = "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71"
DOC_PAYLOAD_UTF8 = (
    "symbol=%EF%BC%91%EF%BC%92%EF%BC%93%EF%BC%94%EF%BC%95%EF%BC%96&side=BUY&type=LIMIT"
    "&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559"
)
DOC_SIGNATURE_UTF8 = "e1353ec6b14d888f1164ae9af8228a3dbd508bc82eb867db8ab6046442f33ef3"
DOC_TS = 1499827319559

BTC = Asset("BTC", 8)
LTC = Asset("LTC", 8)
USDT = Asset("USDT", 8)


def listing(symbol: str, base: Asset, quote: Asset, tick: str, lot: str) -> Listing:
    inst = Instrument(
        id=symbol, venue="v", symbol=symbol, base=base, quote=quote, kind=InstrumentKind.SPOT,
        tick_size=Decimal(tick), lot_size=Decimal(lot), min_qty=Decimal(lot),
    )  # fmt: skip
    return Listing(symbol, inst)


LTCBTC = listing("LTCBTC", LTC, BTC, "0.00000100", "0.01")
BTCUSDT = listing("BTCUSDT", BTC, USDT, "0.01", "0.00001")


def code_of(exc: pytest.ExceptionInfo[e.BinanceError]) -> tuple[int, int]:
    return exc.value.code, exc.value.status


# -- signatures and timing -------------------------------------------------------------
def test_signature_doc_example_query_string_verifies() -> None:
    payload, sig = signed_payload(f"{DOC_PAYLOAD}&signature={DOC_SIGNATURE}", "")
    assert (payload, sig) == (DOC_PAYLOAD, DOC_SIGNATURE)
    check_signature(DOC_SECRET, payload, sig)
    check_signature(DOC_SECRET, payload, DOC_SIGNATURE.upper())  # HMAC hex: any case


def test_signature_doc_example_non_ascii_is_over_the_percent_encoded_text() -> None:
    payload, sig = signed_payload(f"{DOC_PAYLOAD_UTF8}&signature={DOC_SIGNATURE_UTF8}", "")
    check_signature(DOC_SECRET, payload, sig)
    assert split_params(payload, "")["symbol"] == "１２３４５６"


def test_signature_in_the_body_and_split_across_query_and_body_verifies() -> None:
    payload, sig = signed_payload("", f"{DOC_PAYLOAD}&signature={DOC_SIGNATURE}")
    check_signature(DOC_SECRET, payload, sig)
    query, body = DOC_PAYLOAD[:40], DOC_PAYLOAD[40:]  # Binance signs query + body
    payload, _ = signed_payload(query, body + "&signature=x")
    assert payload == DOC_PAYLOAD


def test_signature_wrong_or_missing_is_1022_or_1102() -> None:
    with pytest.raises(e.BinanceError) as bad:
        check_signature(DOC_SECRET, DOC_PAYLOAD + "0", DOC_SIGNATURE)
    assert code_of(bad) == (-1022, 400)
    with pytest.raises(e.BinanceError) as missing:
        check_signature(DOC_SECRET, DOC_PAYLOAD, None)
    assert code_of(missing) == (-1102, 400)


def test_timing_follows_binance_recv_window_rules() -> None:
    params = split_params(DOC_PAYLOAD, "")
    check_timing(params, DOC_TS + 5000)  # recvWindow 5000: the last accepted ms
    check_timing(params, DOC_TS - 999)  # up to 1 s ahead of the server
    for now in (DOC_TS + 5001, DOC_TS - 1000):
        with pytest.raises(e.BinanceError) as late:
            check_timing(params, now)
        assert code_of(late) == (-1021, 400)
    check_timing({"timestamp": str(DOC_TS)}, DOC_TS + 5000)  # default recvWindow 5000
    with pytest.raises(e.BinanceError) as default:
        check_timing({"timestamp": str(DOC_TS)}, DOC_TS + 5001)
    assert default.value.code == -1021
    with pytest.raises(e.BinanceError) as big:
        check_timing({"timestamp": str(DOC_TS), "recvWindow": "60001"}, DOC_TS)
    assert big.value.code == -1102 and "greater than 60000" in big.value.msg
    check_timing({"timestamp": str(DOC_TS * 1000), "recvWindow": "60000"}, DOC_TS + 60000)


def test_params_given_twice_are_1101() -> None:
    with pytest.raises(e.BinanceError) as twice:
        split_params("symbol=A", "symbol=B")
    assert twice.value.code == -1101


# -- new orders --------------------------------------------------------------------------
def test_new_order_doc_example_parses_to_a_limit_place() -> None:
    params = split_params(DOC_PAYLOAD, "")
    parsed = new_order(params, LTCBTC, "alice", "EXPIRE_TAKER")
    cmd = parsed.command
    assert (cmd.side, cmd.type, cmd.tif, cmd.post_only) == (
        Side.BUY, OrderType.LIMIT, TimeInForce.GTC, False,
    )  # fmt: skip
    assert cmd.qty == 100 and cmd.price == 100_000  # 1 LTC in 0.01 lots, 0.1 in 0.000001
    assert cmd.stp is STPMode.CANCEL_NEWEST and parsed.resp_type == "FULL"
    assert cmd.client_order_id is not None and len(cmd.client_order_id) == 22


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"timeInForce": None}, -1102),
        ({"price": None}, -1102),
        ({"price": "0.10000001"}, -1013),  # not on the tick: Filter failure: PRICE_FILTER
        ({"quantity": "0.001"}, -1013),  # LOT_SIZE
        ({"quantity": "1e3"}, -1100),
        ({"side": "HOLD"}, -1117),
        ({"type": "ICEBERG"}, -1116),
        ({"timeInForce": "GTD"}, -1115),
        ({"type": "MARKET", "price": None, "timeInForce": None, "quoteOrderQty": "10"}, -2010),
        ({"newClientOrderId": "has space"}, -1100),
    ],
)
def test_new_order_malformed_is_the_binance_code(change: dict[str, str | None], code: int) -> None:
    params = dict(split_params(DOC_PAYLOAD, ""))
    for k, v in change.items():
        if v is None:
            params.pop(k, None)
        else:
            params[k] = v
    with pytest.raises(e.BinanceError) as exc:
        new_order(params, LTCBTC, "alice", "NONE")
    assert exc.value.code == code


def test_new_order_limit_maker_is_post_only_and_stop_loss_limit_has_both_prices() -> None:
    maker = new_order(
        {"side": "SELL", "type": "LIMIT_MAKER", "quantity": "1", "price": "0.2"},
        LTCBTC, "a", "NONE",
    ).command  # fmt: skip
    assert maker.type is OrderType.LIMIT and maker.post_only
    stop = new_order(
        {"side": "SELL", "type": "STOP_LOSS_LIMIT", "quantity": "1", "price": "0.09",
         "stopPrice": "0.095", "timeInForce": "GTC"},
        LTCBTC, "a", "NONE",
    )  # fmt: skip
    assert stop.command.type is OrderType.STOP_LIMIT and stop.resp_type == "ACK"
    assert (stop.command.price, stop.command.stop_price) == (90_000, 95_000)


# -- renderers ---------------------------------------------------------------------------
def update(**kw: object) -> OrderUpdate:
    base: dict[str, object] = dict(
        user="alice", order_id=28, client_order_id="6gCrw2kRUAF9CvJDGP16IP",
        instrument="BTCUSDT", side=Side.SELL, type=OrderType.MARKET, tif=TimeInForce.GTC,
        status=OrderStatus.FILLED, price=None, stop_price=None, qty=1_000_000,
        filled=1_000_000, remaining=0, cancelled=0, filled_value=0, ts=1507725176595,
        created_ts=1507725176595,
    )  # fmt: skip
    base.update(kw)
    return OrderUpdate(**base)  # type: ignore[arg-type]


def test_render_new_order_full_has_the_doc_fields_in_order_and_fills() -> None:
    # rest-api.md "Response - FULL": a market sell of 10 filled at 4000, 3999, ...
    prices = [(400_000, 100_000, "4.00000000", 56), (399_900, 500_000, "19.99500000", 57)]
    fills = [
        Fill(user="alice", instrument="BTCUSDT", order_id=28, client_order_id=None,
             trade_id=tid, side=Side.SELL, price=p, qty=q, liquidity=Liquidity.TAKER,
             fee=int(Decimal(fee) * 10**8), fee_asset="USDT", fee_rate_ppm=1000)
        for p, q, fee, tid in prices
    ]  # fmt: skip
    u = update(filled_value=400_000 * 100_000 + 399_900 * 500_000)
    out = render.new_order(BTCUSDT, u, "FULL", 1507725176595, "NONE", fills)
    assert list(out) == [
        "symbol", "orderId", "orderListId", "clientOrderId", "transactTime", "price",
        "origQty", "executedQty", "origQuoteOrderQty", "cummulativeQuoteQty", "status",
        "timeInForce", "type", "side", "workingTime", "selfTradePreventionMode", "fills",
    ]  # fmt: skip
    assert out["price"] == "0.00000000" and out["origQty"] == "10.00000000"
    assert out["cummulativeQuoteQty"] == "23995.00000000"
    assert (out["status"], out["type"], out["side"], out["orderListId"]) == (
        "FILLED", "MARKET", "SELL", -1,
    )  # fmt: skip
    assert out["fills"] == [
        {"price": "4000.00000000", "qty": "1.00000000", "commission": "4.00000000",
         "commissionAsset": "USDT", "tradeId": 56},
        {"price": "3999.00000000", "qty": "5.00000000", "commission": "19.99500000",
         "commissionAsset": "USDT", "tradeId": 57},
    ]  # fmt: skip
    ack = render.new_order(BTCUSDT, u, "ACK", 1507725176595, "NONE")
    assert ack == {
        "symbol": "BTCUSDT", "orderId": 28, "orderListId": -1,
        "clientOrderId": "6gCrw2kRUAF9CvJDGP16IP", "transactTime": 1507725176595,
    }  # fmt: skip


def test_render_query_order_matches_the_doc_example_shape() -> None:
    u = update(
        instrument="LTCBTC", order_id=1, client_order_id="myOrder1", side=Side.BUY,
        type=OrderType.LIMIT, status=OrderStatus.NEW, price=100_000, qty=100, filled=0,
        remaining=100, ts=1499827319559, created_ts=1499827319559,
    )  # fmt: skip
    out = render.order(LTCBTC, u, "NONE")
    assert out == {
        "symbol": "LTCBTC", "orderId": 1, "orderListId": -1, "clientOrderId": "myOrder1",
        "price": "0.10000000", "origQty": "1.00000000", "executedQty": "0.00000000",
        "cummulativeQuoteQty": "0.00000000", "status": "NEW", "timeInForce": "GTC",
        "type": "LIMIT", "side": "BUY", "stopPrice": "0.00000000", "icebergQty": "0.00000000",
        "time": 1499827319559, "updateTime": 1499827319559, "isWorking": True,
        "workingTime": 1499827319559, "origQuoteOrderQty": "0.00000000",
        "selfTradePreventionMode": "NONE",
    }  # fmt: skip
    post_only = render.order(LTCBTC, update(instrument="LTCBTC", type=OrderType.LIMIT,
                                            post_only=True, status=OrderStatus.CANCELLED),
                             "NONE")  # fmt: skip
    assert (post_only["type"], post_only["status"]) == ("LIMIT_MAKER", "CANCELED")


def test_render_depth_doc_example() -> None:
    snap = BookSnapshot(
        instrument="LTCBTC", depth=100, sequence=1027024, bids=[(4_000_000, 43_100)],
        asks=[(4_000_002, 1_200)], checksum=0, ts=0,
    )  # fmt: skip
    assert render.depth(LTCBTC, snap) == {
        "lastUpdateId": 1027024,
        "bids": [["4.00000000", "431.00000000"]],
        "asks": [["4.00000200", "12.00000000"]],
    }


def test_render_trade_and_agg_trade_doc_examples() -> None:
    t = PublicTrade(instrument="LTCBTC", trade_id=28457, price=4_000_001, qty=1_200,
                    taker_side=Side.SELL, ts=1499865549590, sequence=1)  # fmt: skip
    assert render.trade(LTCBTC, t) == {
        "id": 28457, "price": "4.00000100", "qty": "12.00000000", "quoteQty": "48.00001200",
        "time": 1499865549590, "isBuyerMaker": True, "isBestMatch": True,
    }  # fmt: skip
    assert render.agg_trade(LTCBTC, t) == {
        "a": 28457, "p": "4.00000100", "q": "12.00000000", "f": 28457, "l": 28457,
        "T": 1499865549590, "m": True, "M": True,
    }  # fmt: skip


def test_render_kline_doc_example_layout() -> None:
    c = Candle(
        instrument="LTCBTC", interval="1m", start=1499040000000, end=1499040060000,
        open=16_347, high=800_000, low=15_758, close=15_771, volume=14_897_611,
        quote_volume=243_419_055_334, trades=308, closed=True,
    )  # fmt: skip
    row = render.kline(LTCBTC, c)
    assert row == [
        1499040000000, "0.01634700", "0.80000000", "0.01575800", "0.01577100",
        "148976.11000000", 1499040059999, "2434.19055334", 308, "0.00000000",
        "0.00000000", "0",
    ]  # fmt: skip


def test_exchange_info_filters_come_from_tick_lot_and_min_qty() -> None:
    f = {x["filterType"]: x for x in filters(BTCUSDT)}
    assert f["PRICE_FILTER"]["tickSize"] == "0.01000000"
    assert f["PRICE_FILTER"]["minPrice"] == "0.01000000"
    assert f["LOT_SIZE"] == f["MARKET_LOT_SIZE"] | {"filterType": "LOT_SIZE"}
    assert f["LOT_SIZE"]["stepSize"] == "0.00001000" and f["LOT_SIZE"]["minQty"] == "0.00001000"
    assert f["NOTIONAL"]["minNotional"] == "0.00000010"  # one tick x one lot
    info = symbol_info(BTCUSDT, halted=True, stp_default=STPMode.CANCEL_NEWEST)
    assert info["status"] == "HALT" and info["defaultSelfTradePreventionMode"] == "EXPIRE_TAKER"
    assert info["baseAssetPrecision"] == 8 and info["quoteAssetPrecision"] == 8
    assert info["quoteOrderQtyMarketAllowed"] is False


def test_error_body_is_the_doc_sample() -> None:
    assert e.bad_symbol().body() == {"code": -1121, "msg": "Invalid symbol."}
    limited = e.too_many_requests(6000, 7)
    assert (limited.status, limited.headers, limited.code) == (429, {"Retry-After": "7"}, -1003)


def test_rejection_maps_venue_reasons_to_binance_codes() -> None:
    from openpit.core.enums import Reason

    funds = e.rejection(Reason.INSUFFICIENT_FUNDS, "")
    assert funds.body() == {
        "code": -2010, "msg": "Account has insufficient balance for requested action.",
    }  # fmt: skip
    assert e.rejection(Reason.POST_ONLY_WOULD_TAKE, "").msg == (
        "Order would immediately match and take."
    )
    assert e.rejection(Reason.INVALID_PRICE, "").body() == {
        "code": -1013, "msg": "Filter failure: PRICE_FILTER",
    }  # fmt: skip
    assert e.rejection(Reason.UNKNOWN_ORDER, "", cancel=True).body() == {
        "code": -2011, "msg": "Unknown order sent.",
    }  # fmt: skip


# -- symbols and limits ------------------------------------------------------------------
def test_symbol_map_demo_defaults_and_duplicate_pair() -> None:
    config = load_demo_config()
    m = SymbolMap(config.instruments.values())
    names = {lst.inst.id: lst.symbol for lst in m}
    assert names["BTCUSDT"] == "BTCUSDT" and names["AAPL"] == "AAPLUSD"
    assert names["LUXURY001-XRP-XRPL"] == "LUXURY001XRP"
    assert names["LUXURY001-XRP-FLARE"] == "LUXURY001XRP_FLARE"
    with pytest.raises(e.BinanceError) as unknown:
        m.get("BNBBTC")
    assert code_of(unknown) == (-1121, 400)
    aliased = SymbolMap(config.instruments.values(), {"LUXURY001-XRP-FLARE": "LUXFLR"})
    assert aliased.of("LUXURY001-XRP-FLARE").symbol == "LUXFLR"
    moved = SymbolMap(config.instruments.values(), {"AAPL": "BTCUSDT"})  # the config wins
    assert moved.get("BTCUSDT").inst.id == "AAPL"
    assert moved.of("BTCUSDT").symbol == "BTCUSDT_BINANCE"
    with pytest.raises(SymbolClash):
        SymbolMap(config.instruments.values(), {"AAPL": "XUSD", "MSFT": "XUSD"})
    with pytest.raises(SymbolClash):
        SymbolMap(config.instruments.values(), {"AAPL": "aapl usd"})


def test_weight_limit_refuses_past_the_minute_and_resets_next_minute() -> None:
    w = WeightLimiter(10)
    assert w.charge("ip", 6, 60_000) == 6
    with pytest.raises(e.BinanceError) as over:
        w.charge("ip", 5, 60_500)
    assert over.value.code == -1003 and over.value.headers == {"Retry-After": "60"}
    assert w.used("ip", 60_500) == 6  # the refused weight is not added
    assert w.charge("other", 10, 60_500) == 10
    assert w.charge("ip", 10, 120_000) == 10


def test_order_count_limit_is_1015_per_ten_seconds() -> None:
    c = OrderCounter(per_10s=2, per_day=100)
    for _ in range(2):
        c.check("u", 1_000)
        c.add("u", 1_000)
    with pytest.raises(e.BinanceError) as over:
        c.check("u", 9_999)
    assert code_of(over) == (-1015, 429) and over.value.headers == {"Retry-After": "1"}
    c.check("u", 10_000)
    assert c.counts("u", 10_000) == (0, 2)
