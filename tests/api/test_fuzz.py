"""Property-based API fuzzing: schemathesis generates requests from our own OpenAPI document.

The server runs in this process (a background event loop thread) on 127.0.0.1:0;
signed routes are called with a valid admin signature so the fuzzer reaches the
handlers. Every response must be documented (status, content type, schema), and no
input may produce a 5xx. Bounded: a few examples per operation.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from openpit.api import signed_headers
from openpit.gateway import RateLimit
from tests.api.helpers import Creds, rest_env

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
EXAMPLES = 12
# the fuzzer fires hundreds of requests with one key as fast as it can: limits it never
# reaches, so every case gets to the handlers (rate limiting has its own tests)
UNLIMITED = {"public": RateLimit(10**9, 10**9), "signed": RateLimit(10**9, 10**9)}


class Signer(requests.auth.AuthBase):
    def __init__(self, creds: Creds) -> None:
        self.creds = creds

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        body = r.body or b""
        if isinstance(body, str):
            body = body.encode()
        ts = time.time_ns() // 1_000_000
        assert r.method is not None
        r.headers.update(
            signed_headers(
                self.creds.api_key, self.creds.api_secret, ts, r.method, r.path_url, body
            )
        )
        return r


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, Creds, dict[str, Any]]]:
    ready: dict[str, Any] = {}
    started = threading.Event()
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()

    async def main() -> None:
        async with rest_env(tmp_path, rest_rates=UNLIMITED) as env:
            _, doc = await env.call("GET", "/api/v1/openapi.json")
            ready.update(base=env.base, creds=env.keys["admin"], doc=doc)
            started.set()
            await stop.wait()

    thread = threading.Thread(target=lambda: loop.run_until_complete(main()), daemon=True)
    thread.start()
    assert started.wait(30)
    try:
        yield ready["base"], ready["creds"], ready["doc"]
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(30)
        loop.close()


def test_api_fuzz_no_server_errors_and_every_reply_matches_the_schema(
    server: tuple[str, Creds, dict[str, Any]],
) -> None:
    base, creds, doc = server
    schema = schemathesis.openapi.from_dict(doc)
    session = requests.Session()
    session.auth = Signer(creds)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 30
    for op in operations:
        _fuzz(op.as_strategy(), base, session)
    session.close()


def _fuzz(strategy: Any, base: str, session: requests.Session) -> None:
    """Run one operation's generated cases against the server."""

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(data=st.data())
    def check(data: st.DataObject) -> None:
        case = data.draw(strategy)
        response = case.call(base_url=base, session=session)
        case.validate_response(response, checks=CHECKS)

    check()
