"""``openpit serve`` over TLS (issue 20): every dialect over wss://, REST and the dashboard
over https:// with a CA and certificate made by the test; plain HTTP / ws:// to the TLS
port refused with a 400; ``--tls self-signed`` made once and reused; bad files stop
start-up with one line naming the file.

The browser test is skipped only when /usr/bin/chromium is missing and
OPENPIT_REQUIRE_BROWSER is unset (as tests/web).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import datetime
import hashlib
import ipaddress
import json
import os
import ssl
import stat
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from openpit.api import signed_headers
from openpit.cli import main as cli_main
from openpit.config import load_demo_config
from openpit.gateway import sign
from openpit.server.main import run_server
from openpit.server.tls import KEY_FILE, TLS_DIR, TlsError, resolve_tls, server_context
from openpit.store import Permission, SqliteStore
from openpit.store.keys import new_key

CHROMIUM = Path("/usr/bin/chromium")
UTC = datetime.UTC


# -- a CA and a server certificate, made here ---------------------------------------------


@dataclass(frozen=True)
class Pki:
    ca: Path
    cert: Path
    key: Path
    other_key: Path  # a valid key that does not match ``cert``
    spki: list[str]  # base64 SHA-256 of the CA's and the leaf's public keys (chromium)


def _pem_key(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _spki(key: ec.EllipticCurvePrivateKey) -> str:
    der = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.b64encode(hashlib.sha256(der).digest()).decode()


def make_pki(folder: Path) -> Pki:
    now = datetime.datetime.now(UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "openpit test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_name)
        .public_key(leaf_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    folder.mkdir(parents=True, exist_ok=True)
    pki = Pki(
        folder / "ca.pem",
        folder / "server.pem",
        folder / "server.key",
        folder / "other.key",
        [_spki(ca_key), _spki(leaf_key)],
    )
    pki.ca.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    pki.cert.write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    pki.key.write_bytes(_pem_key(leaf_key))
    pki.other_key.write_bytes(_pem_key(ec.generate_private_key(ec.SECP256R1())))
    return pki


# -- one TLS venue for the module --------------------------------------------------------


@dataclass(frozen=True)
class Venue:
    https: str
    wss: str
    port: int
    key_id: str
    secret: str
    client_ssl: ssl.SSLContext
    spki: list[str]


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="module")
def venue(tmp_path_factory: pytest.TempPathFactory, pki: Pki) -> Iterator[Venue]:
    data_dir = tmp_path_factory.mktemp("tls-venue")
    store = SqliteStore.in_data_dir(data_dir)  # the demo key, known to the test
    store.create_user("demo", 1)
    demo = new_key("demo", frozenset({Permission.READ, Permission.TRADE}), 1)
    store.create_api_key(demo)
    store.close()
    args = argparse.Namespace(
        host="127.0.0.1", port=0, data_dir=str(data_dir), fsync="off", no_simulator=True,
        seed=3, tls=None, tls_cert=str(pki.cert), tls_key=str(pki.key),
    )  # fmt: skip
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()
    urls: dict[str, str] = {}
    started = threading.Event()

    async def main() -> None:
        ready: asyncio.Future[dict[str, str]] = loop.create_future()
        ready.add_done_callback(lambda f: (urls.update(f.result()), started.set()))
        await run_server(load_demo_config(), args, stop, ready)

    thread = threading.Thread(target=lambda: loop.run_until_complete(main()), daemon=True)
    thread.start()
    assert started.wait(60)
    https = urls["health"].rsplit("/", 1)[0]
    assert https.startswith("https://127.0.0.1:") and urls["flat/typed"].startswith("wss://")
    try:
        yield Venue(
            https,
            "wss" + https.removeprefix("https"),
            int(https.rsplit(":", 1)[1]),
            demo.key_id,
            demo.secret,
            ssl.create_default_context(cafile=pki.ca),
            pki.spki,
        )
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(30)
        loop.close()


def _run(coro: object) -> None:
    asyncio.run(asyncio.wait_for(coro, 30))  # type: ignore[arg-type]


async def _until(ws: object, pred: object) -> dict[str, object]:
    while True:
        msg = json.loads(await ws.recv())  # type: ignore[attr-defined]
        if pred(msg):  # type: ignore[operator]
            return msg  # type: ignore[no-any-return]


# -- every surface over TLS --------------------------------------------------------------


def test_flat_login_and_subscribe_over_wss(venue: Venue) -> None:
    async def scenario() -> None:
        async with connect(f"{venue.wss}/ws", ssl=venue.client_ssl, compression=None) as ws:
            ts = int(time.time() * 1000)
            await ws.send(
                json.dumps(
                    {
                        "action": "authenticate",
                        "api_key": venue.key_id,
                        "timestamp": ts,
                        "signature": sign(venue.secret, venue.key_id, ts),
                    }
                )
            )
            reply = json.loads(await ws.recv())
            assert reply["event"] == "authenticated" and reply["success"] is True, reply
            await ws.send(
                json.dumps(
                    {
                        "action": "subscribe",
                        "channels": ["orders"],
                        "params": {"exchange": "binance", "symbols": ["BTCUSDT"]},
                    }
                )
            )
            sub = await _until(ws, lambda m: "event" in m)
            assert sub["event"] == "subscribed", sub

    _run(scenario())


def test_envelope_market_data_over_wss(venue: Venue) -> None:
    async def scenario() -> None:
        url = f"{venue.wss}/ws/market-data"
        async with connect(url, ssl=venue.client_ssl, compression=None) as ws:
            await ws.send(
                json.dumps(
                    {"action": "subscribe", "data": {"channels": ["orderbook:AAPL:3"]}, "id": "s1"}
                )
            )
            reply = await _until(ws, lambda m: m.get("id") == "s1")
            assert reply["type"] == "subscription_response", reply
            book = await _until(ws, lambda m: m.get("channel") == "orderbook:AAPL:3")
            assert book["type"] == "orderbook", book

    _run(scenario())


def test_signed_rest_order_and_typed_jwt_over_tls(venue: Venue) -> None:
    async def scenario() -> None:
        connector = aiohttp.TCPConnector(ssl=venue.client_ssl)
        async with aiohttp.ClientSession(connector=connector) as http:

            async def signed(path: str, body: dict[str, object]) -> tuple[int, dict[str, object]]:
                data = json.dumps(body).encode()
                headers = {"Content-Type": "application/json"}
                stamp = time.time_ns() // 1_000_000
                headers |= signed_headers(venue.key_id, venue.secret, stamp, "POST", path, data)
                async with http.post(venue.https + path, data=data, headers=headers) as resp:
                    return resp.status, await resp.json()

            order = {
                "symbol": "BTCUSDT", "side": "buy", "type": "limit", "amount": "0.01",
                "price": "1000.00", "client_order_id": "tls-1",
            }  # fmt: skip
            status, placed = await signed("/api/v1/orders", order)
            assert status == 201, placed
            assert placed["client_order_id"] == "tls-1"
            await asyncio.sleep(0.002)  # a new millisecond stamp for the next signature
            status, minted = await signed("/api/v1/tokens", {"ttl_seconds": 300})
            assert status in (200, 201), minted
            token = minted["token"]

        async with connect(f"{venue.wss}/", ssl=venue.client_ssl) as ws:
            await ws.send(json.dumps({"type": "authenticate", "token": token}))
            reply = await _until(ws, lambda m: m.get("type") in ("authenticated", "error"))
            assert reply["type"] == "authenticated", reply

    _run(scenario())


def test_plain_http_and_ws_to_the_tls_port_get_a_clear_400(venue: Venue) -> None:
    async def scenario() -> None:
        with pytest.raises(InvalidStatus) as refused:
            async with connect(f"ws://127.0.0.1:{venue.port}/ws"):
                pass
        assert refused.value.response.status_code == 400
        assert b"use https:// or wss://" in refused.value.response.body
        async with (
            aiohttp.ClientSession() as http,
            http.get(f"http://127.0.0.1:{venue.port}/healthz") as resp,
        ):
            assert resp.status == 400
            assert "this port speaks TLS" in await resp.text()
        # and the TLS side still serves after those
        connector = aiohttp.TCPConnector(ssl=venue.client_ssl)
        async with (
            aiohttp.ClientSession(connector=connector) as http,
            http.get(venue.https + "/healthz") as resp,
        ):
            assert resp.status == 200

    _run(scenario())


def test_dashboard_over_https_in_chromium_trusting_the_test_ca(venue: Venue) -> None:
    if not CHROMIUM.exists():
        if os.environ.get("OPENPIT_REQUIRE_BROWSER"):
            pytest.fail("no /usr/bin/chromium")
        pytest.skip("no /usr/bin/chromium (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    args = [
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run",
        "--ignore-certificate-errors-spki-list=" + ",".join(venue.spki),
    ]  # fmt: skip
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=args, headless=True)
        try:
            page = browser.new_page()  # no ignore_https_errors: only the SPKI pin trusts it
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.goto(venue.https + "/?symbol=BTCUSDT")
            assert page.url.startswith("https://")
            page.wait_for_selector("#instruments tbody tr[data-id='BTCUSDT']", timeout=30_000)
            page.wait_for_function(
                "document.querySelector('#conn').textContent === 'live'", timeout=30_000
            )
            assert errors == []
        finally:
            browser.close()


# -- certificates: self-signed, bad files ------------------------------------------------


def test_self_signed_twice_is_the_same_certificate_with_a_0600_key(tmp_path: Path) -> None:
    config = load_demo_config()
    first = resolve_tls(config, tmp_path, "self-signed")
    second = resolve_tls(config, tmp_path, "self-signed")
    assert first is not None and second is not None
    assert first.cert == second.cert and first.fingerprint == second.fingerprint
    assert first.cert.read_bytes() == second.cert.read_bytes()
    key = tmp_path / TLS_DIR / KEY_FILE
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert len(first.fingerprint.split(":")) == 32
    assert second.context.minimum_version is ssl.TLSVersion.TLSv1_2  # no TLS 1.0/1.1

    async def handshake() -> None:  # the certificate is valid for 127.0.0.1 and localhost
        server = await asyncio.start_server(
            lambda r, w: w.close(), "127.0.0.1", 0, ssl=second.context
        )
        port = server.sockets[0].getsockname()[1]
        trust = ssl.create_default_context(cafile=first.cert)
        for name in ("localhost", "127.0.0.1"):
            _, writer = await asyncio.open_connection(
                "127.0.0.1", port, ssl=trust, server_hostname=name
            )
            writer.close()
        server.close()
        await server.wait_closed()

    _run(handshake())


def _serve_line(capsys: pytest.CaptureFixture[str], tmp: Path, *extra: str) -> str:
    code = cli_main(["serve", "--port", "0", "--data-dir", str(tmp / "data"), *extra])
    err = capsys.readouterr().err.strip()
    assert code == 2, err
    assert len(err.splitlines()) == 1, err
    assert not (tmp / "data").exists()  # nothing was opened or created
    return err


def test_bad_certificate_or_key_stops_start_up_with_one_line(
    tmp_path: Path, pki: Pki, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nope.pem"
    line = _serve_line(capsys, tmp_path, "--tls-cert", str(missing), "--tls-key", str(pki.key))
    assert str(missing) in line and "no such file" in line
    junk = tmp_path / "junk.pem"
    junk.write_text("hello\n")
    line = _serve_line(capsys, tmp_path, "--tls-cert", str(pki.cert), "--tls-key", str(junk))
    assert str(junk) in line and "PEM" in line
    line = _serve_line(
        capsys, tmp_path, "--tls-cert", str(pki.cert), "--tls-key", str(pki.other_key)
    )
    assert str(pki.other_key) in line and "does not match" in line
    line = _serve_line(capsys, tmp_path, "--tls-cert", str(pki.cert))
    assert "--tls-key" in line
    if os.geteuid() != 0:  # root reads anything
        locked = tmp_path / "locked.key"
        locked.write_bytes(pki.key.read_bytes())
        locked.chmod(0)
        with pytest.raises(TlsError, match="cannot read"):
            server_context(pki.cert, locked)
