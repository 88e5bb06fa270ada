"""REST rate limits over real HTTP with a fake clock: 429 + Retry-After, refill, isolation.

The buckets' clock is a ``FakeClock`` the test advances by hand, so nothing here depends
on how fast the machine is.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path

import aiohttp
import pytest

from openpit.api import RATE_LIMITER
from openpit.api.ratelimit import ClientBuckets, RestRateLimiter
from openpit.gateway import GatewaySettings, RateLimit
from tests.api.helpers import RestEnv, rest_env

SMALL = {"public": RateLimit(burst=3, per_second=1), "signed": RateLimit(burst=2, per_second=1)}
ORDER = {"symbol": "BTCUSDT", "side": "buy", "type": "limit", "amount": "0.01", "price": "42000"}


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def run(
    scenario: Callable[[RestEnv, FakeClock], Awaitable[None]],
    tmp: Path,
    rates: Mapping[str, RateLimit] = SMALL,
) -> None:
    clock = FakeClock()

    async def main() -> None:
        async with rest_env(tmp, rest_rates=rates, rate_clock=clock) as env:
            await scenario(env, clock)

    asyncio.run(asyncio.wait_for(main(), 60))


def limiter(env: RestEnv) -> RestRateLimiter:
    return env.gateway.app[RATE_LIMITER]


def test_rest_public_route_over_burst_is_429_with_retry_after(tmp_path: Path) -> None:
    async def scenario(env: RestEnv, clock: FakeClock) -> None:
        for _ in range(3):
            assert (await env.call("GET", "/api/v1/time"))[0] == 200
        status, err = await env.call("GET", "/api/v1/time")
        assert (status, err["code"], err["status"]) == (429, "rate_limited", 429)
        assert set(err) == {"code", "message", "status"}
        assert "retry after 1 s" in err["message"]
        assert env.last_headers["Retry-After"] == "1"
        assert (await env.call("GET", "/api/v1/instruments"))[0] == 429  # one bucket per IP

    run(scenario, tmp_path)


def test_rest_retry_after_slow_refill_rounds_up_to_whole_seconds(tmp_path: Path) -> None:
    rates = {"public": RateLimit(burst=1, per_second=0.4)}

    async def scenario(env: RestEnv, clock: FakeClock) -> None:
        assert (await env.call("GET", "/api/v1/time"))[0] == 200
        assert (await env.call("GET", "/api/v1/time"))[0] == 429
        assert env.last_headers["Retry-After"] == "3"  # 2.5 s -> 3
        clock.advance(2.0)
        assert (await env.call("GET", "/api/v1/time"))[0] == 429
        assert env.last_headers["Retry-After"] == "1"  # 0.5 s -> 1, never 0

    run(scenario, tmp_path, rates)


def test_rest_public_bucket_clock_advances_refills(tmp_path: Path) -> None:
    async def scenario(env: RestEnv, clock: FakeClock) -> None:
        for _ in range(3):
            assert (await env.call("GET", "/api/v1/time"))[0] == 200
        assert (await env.call("GET", "/api/v1/time"))[0] == 429
        clock.advance(1.0)  # one token back
        assert (await env.call("GET", "/api/v1/time"))[0] == 200
        assert (await env.call("GET", "/api/v1/time"))[0] == 429
        clock.advance(3600)  # refills to the burst, not beyond
        statuses = [(await env.call("GET", "/api/v1/time"))[0] for _ in range(4)]
        assert statuses == [200, 200, 200, 429]

    run(scenario, tmp_path)


def test_rest_signed_key_exhausted_other_key_unaffected(tmp_path: Path) -> None:
    async def scenario(env: RestEnv, clock: FakeClock) -> None:
        for _ in range(2):
            assert (await env.call("GET", "/api/v1/account/balances", "alice"))[0] == 200
        status, err = await env.call("GET", "/api/v1/account/balances", "alice")
        assert (status, err["code"]) == (429, "rate_limited")
        assert "API key" in err["message"] and env.last_headers["Retry-After"] == "1"
        # another key of another user, and public routes from the same address: untouched
        assert (await env.call("GET", "/api/v1/account/balances", "bob"))[0] == 200
        assert (await env.call("GET", "/api/v1/time"))[0] == 200
        # the limit is per key, not per user: alice's read-only key has its own bucket
        assert (await env.call("GET", "/api/v1/account/balances", "reader"))[0] == 200
        clock.advance(1.0)
        assert (await env.call("GET", "/api/v1/account/balances", "alice"))[0] == 200

    run(scenario, tmp_path)


def test_rest_admin_key_exhausted_admin_route_is_429(tmp_path: Path) -> None:
    async def scenario(env: RestEnv, clock: FakeClock) -> None:
        for _ in range(2):
            assert (await env.call("GET", "/api/v1/admin/users", "admin"))[0] == 200
        body = {"user": "carol"}
        status, err = await env.call("POST", "/api/v1/admin/users", "admin", body)
        assert (status, err["code"]) == (429, "rate_limited")
        assert env.store.get_user("carol") is None
        assert (await env.call("GET", "/api/v1/account/balances", "alice"))[0] == 200

    run(scenario, tmp_path)


def test_rest_public_limit_per_remote_ip_other_address_unaffected(tmp_path: Path) -> None:
    async def scenario(env: RestEnv, clock: FakeClock) -> None:
        connector = aiohttp.TCPConnector(local_addr=("127.0.0.2", 0))
        async with aiohttp.ClientSession(connector=connector) as other:
            for _ in range(3):
                assert (await env.call("GET", "/api/v1/time"))[0] == 200
            assert (await env.call("GET", "/api/v1/time"))[0] == 429
            # X-Forwarded-For is not trusted: it does not buy a fresh bucket
            async with env.session.get(
                env.base + "/api/v1/time", headers={"X-Forwarded-For": "10.9.8.7"}
            ) as resp:
                assert resp.status == 429
            assert (await env.call("GET", "/api/v1/time", session=other))[0] == 200
            assert set(limiter(env).by_ip.buckets) == {"127.0.0.1", "127.0.0.2"}

    run(scenario, tmp_path)


def test_rest_signed_order_over_limit_places_no_order(tmp_path: Path) -> None:
    async def scenario(env: RestEnv, clock: FakeClock) -> None:
        status, before = await env.call("GET", "/api/v1/account/balances", "alice")
        assert status == 200
        assert (await env.call("GET", "/api/v1/orders", "alice"))[0] == 200
        status, err = await env.call("POST", "/api/v1/orders", "alice", ORDER)
        assert (status, err["code"]) == (429, "rate_limited")
        clock.advance(10)
        status, orders = await env.call("GET", "/api/v1/orders", "alice")
        assert (status, orders) == (200, [])
        status, after = await env.call("GET", "/api/v1/account/balances", "alice")
        assert (status, after) == (200, before)
        # once refilled, the same order goes through
        clock.advance(10)
        assert (await env.call("POST", "/api/v1/orders", "alice", ORDER))[0] == 201

    run(scenario, tmp_path)


def test_rest_failed_authentication_charged_to_remote_ip(tmp_path: Path) -> None:
    async def scenario(env: RestEnv, clock: FakeClock) -> None:
        bad = "0" * 64
        for _ in range(3):
            status, _ = await env.call("GET", "/api/v1/account/balances", "alice", signature=bad)
            assert status == 401
        status, err = await env.call("GET", "/api/v1/account/balances", "alice", signature=bad)
        assert (status, err["code"]) == (429, "rate_limited")
        # the key itself is not charged: a correctly signed request still passes
        assert (await env.call("GET", "/api/v1/account/balances", "alice"))[0] == 200

    run(scenario, tmp_path)


def test_rest_openapi_and_docs_page_over_limit_are_429(tmp_path: Path) -> None:
    async def scenario(env: RestEnv, clock: FakeClock) -> None:
        status, doc = await env.call("GET", "/api/v1/openapi.json")
        assert status == 200
        for path in ("/api/v1/orders", "/api/v1/time", "/api/v1/admin/users"):
            for op in doc["paths"][path].values():
                reply = op["responses"]["429"]
                assert reply["content"]["application/json"]["schema"]["$ref"].endswith("/Error")
                assert reply["headers"]["Retry-After"]["schema"]["minimum"] == 1
        async with env.session.get(env.base + "/api/v1/docs") as resp:
            assert resp.status == 200
        assert (await env.call("GET", "/api/v1/time"))[0] == 200
        async with env.session.get(env.base + "/api/v1/docs") as resp:
            assert resp.status == 429 and resp.headers["Retry-After"] == "1"
            assert (await resp.json())["code"] == "rate_limited"
        assert (await env.call("GET", "/api/v1/openapi.json"))[0] == 429

    run(scenario, tmp_path)


def test_rest_idle_buckets_after_a_minute_evicted(tmp_path: Path) -> None:
    async def scenario(env: RestEnv, clock: FakeClock) -> None:
        buckets = limiter(env)
        assert (await env.call("GET", "/api/v1/time"))[0] == 200
        assert (await env.call("GET", "/api/v1/account/balances", "alice"))[0] == 200
        assert (len(buckets.by_ip), len(buckets.by_key)) == (1, 1)
        clock.advance(59)
        assert (await env.call("GET", "/api/v1/account/balances", "bob"))[0] == 200
        assert len(buckets.by_key) == 2  # alice idle 59 s: kept
        clock.advance(1)
        assert (await env.call("GET", "/api/v1/account/balances", "bob"))[0] == 200
        assert set(buckets.by_key.buckets) == {env.keys["bob"].api_key}
        clock.advance(60)
        assert (await env.call("GET", "/api/v1/time"))[0] == 200  # a fresh, full bucket
        assert len(buckets.by_ip) == 1
        assert (await env.call("GET", "/api/v1/account/balances", "alice"))[0] == 200
        assert set(buckets.by_key.buckets) == {env.keys["alice"].api_key}  # bob dropped

    run(scenario, tmp_path)


def test_client_buckets_many_idle_clients_evicted() -> None:
    buckets = ClientBuckets(RateLimit(burst=40, per_second=20))
    for i in range(10_000):
        assert buckets.take(f"10.0.{i // 256}.{i % 256}", now=i / 1000) == 0.0
    assert len(buckets) == 10_000
    buckets.take("192.0.2.1", now=10.0 + 60)
    assert list(buckets.buckets) == ["192.0.2.1"]


def test_client_buckets_idle_time_covers_slow_refill_only_full_dropped() -> None:
    # burst 10 at 0.1/s takes 100 s to refill: a bucket is kept until it is full again
    buckets = ClientBuckets(RateLimit(burst=10, per_second=0.1), idle_seconds=60)
    for _ in range(10):
        assert buckets.take("a", now=0.0) == 0.0
    assert buckets.take("a", now=0.0) == pytest.approx(10.0)
    buckets.take("b", now=99.0)
    assert "a" in buckets.buckets
    buckets.take("b", now=100.0)
    assert "a" not in buckets.buckets


def test_client_buckets_past_max_least_recent_dropped() -> None:
    buckets = ClientBuckets(RateLimit(burst=2, per_second=1), max_buckets=3)
    for name in ("a", "b", "c"):
        buckets.take(name, now=0.0)
    buckets.take("a", now=0.0)  # a is now the most recent
    buckets.take("d", now=0.0)
    assert list(buckets.buckets) == ["c", "a", "d"]


def test_client_buckets_bad_limit_rejected() -> None:
    with pytest.raises(ValueError, match="per_second > 0"):
        ClientBuckets(RateLimit(burst=5, per_second=0))
    with pytest.raises(ValueError, match="burst >= 1"):
        ClientBuckets(RateLimit(burst=0.5, per_second=1))


def test_gateway_settings_rest_rates_from_mapping_overrides_one_keeps_other() -> None:
    settings = GatewaySettings.from_mapping({"rest_rates": {"public": [10, 5]}})
    assert settings.rest_rates["public"] == RateLimit(10, 5)
    assert settings.rest_rates["signed"] == GatewaySettings().rest_rates["signed"]


def test_gateway_settings_rest_rates_unknown_key_rejected() -> None:
    with pytest.raises(ValueError, match=r"gateway\.rest_rates\.private: unknown key"):
        GatewaySettings.from_mapping({"rest_rates": {"private": [10, 5]}})
