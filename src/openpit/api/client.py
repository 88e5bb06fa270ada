"""A small synchronous client for the REST API (standard library only), used by the CLI.

Invariants:
- Every request to a private route is signed exactly as ``signing`` documents (fresh
  timestamp per request, so no two requests share a signature).
- An error reply becomes ``ApiClientError`` carrying the server's code and message;
  a server that cannot be reached becomes ``ServerUnreachable``.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urlsplit

from openpit.api.signing import signed_headers
from openpit.core.errors import OpenpitError


class ApiClientError(OpenpitError):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{message} ({code}, HTTP {status})")
        self.status = status
        self.code = code
        self.message = message


class ServerUnreachable(OpenpitError):
    pass


class RestClient:
    def __init__(
        self,
        base_url: str,
        api_key: str | None = None,
        api_secret: str | None = None,
        timeout: float = 10.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.api_secret = api_secret
        self.timeout = timeout

    def request(self, method: str, path: str, body: object = None, *, signed: bool = True) -> Any:
        """``path`` starts with ``/api/v1``; returns the decoded JSON reply."""
        data = b"" if body is None else json.dumps(body, separators=(",", ":")).encode()
        target = urlsplit(self.base_url).path.rstrip("/") + path
        headers = {"Accept": "application/json"}
        if data:
            headers["Content-Type"] = "application/json"
        if signed:
            if self.api_key is None or self.api_secret is None:
                raise ValueError("a signed request needs an API key and secret")
            ts = time.time_ns() // 1_000_000
            headers.update(signed_headers(self.api_key, self.api_secret, ts, method, target, data))
        req = urllib.request.Request(
            self.base_url + path, data=data or None, method=method, headers=headers
        )
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                return json.loads(resp.read() or b"null")
        except urllib.error.HTTPError as exc:
            raw = exc.read()
            try:
                err = json.loads(raw)
                raise ApiClientError(exc.code, str(err["code"]), str(err["message"])) from None
            except (ValueError, KeyError, TypeError):
                raise ApiClientError(exc.code, "http_error", raw.decode(errors="replace")) from None
        except (urllib.error.URLError, ConnectionError, TimeoutError) as exc:
            reason = getattr(exc, "reason", exc)
            raise ServerUnreachable(f"cannot reach {self.base_url}: {reason}") from None

    def reachable(self) -> bool:
        try:
            self.request("GET", "/api/v1/time", signed=False)
        except (ServerUnreachable, ApiClientError):
            return False
        return True
