"""The WebSocket API's signing, on the HMAC walkthrough of Binance's web-socket-api.md."""

from __future__ import annotations

import json

import pytest

from openpit.api.binance.wsapi import signing_payload, wire_params
from openpit.binance import errors as e
from openpit.binance.request import check_signature, sign

DOC_SECRET = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"
DOC_REQUEST = """{
    "id": "4885f793-e5ad-4c3b-8f6c-55d891472b71",
    "method": "order.place",
    "params": {
        "symbol": "BTCUSDT",
        "side": "SELL",
        "type": "LIMIT",
        "timeInForce": "GTC",
        "quantity": "0.01000000",
        "price": "52000.00",
        "recvWindow": 100,
        "timestamp": 1645423376532,
        "apiKey": "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A",
        "signature": "aa1b5712c094bc4e57c05a1a5c1fd8d88dcd628338ea863fec7b88e59fe2db24"
    }
}"""
DOC_PAYLOAD = (
    "apiKey=vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A&price=52000.00"
    "&quantity=0.01000000&recvWindow=100&side=SELL&symbol=BTCUSDT&timeInForce=GTC"
    "&timestamp=1645423376532&type=LIMIT"
)
DOC_PAYLOAD_UTF8 = (
    "apiKey=vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A&price=0.10000000"
    "&quantity=1.00000000&recvWindow=5000&side=BUY&symbol=１２３４５６&timeInForce=GTC"
    "&timestamp=1645423376532&type=LIMIT"
)


def test_signing_payload_doc_request_sorts_params_and_verifies() -> None:
    params = wire_params(json.loads(DOC_REQUEST)["params"])
    assert signing_payload(params) == DOC_PAYLOAD
    check_signature(DOC_SECRET, signing_payload(params), params["signature"])


def test_signing_payload_doc_non_ascii_example_signs_as_documented() -> None:
    assert sign(DOC_SECRET, DOC_PAYLOAD_UTF8) == (
        "b33892ae8e687c939f4468c6268ddd4c40ac1af18ad19a064864c47bae0752cd"
    )


def test_signing_payload_tampered_param_fails_with_1022() -> None:
    params = wire_params(json.loads(DOC_REQUEST)["params"])
    params["price"] = "52000.01"
    with pytest.raises(e.BinanceError) as exc:
        check_signature(DOC_SECRET, signing_payload(params), params["signature"])
    assert exc.value.code == -1022


def test_wire_params_render_json_values_as_binance_signs_them() -> None:
    assert wire_params({"a": 100, "b": True, "c": "x", "d": ["BTCUSDT"]}) == {
        "a": "100", "b": "true", "c": "x", "d": '["BTCUSDT"]',
    }  # fmt: skip
