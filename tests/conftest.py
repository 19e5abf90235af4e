"""Shared fixtures. Unit tests can never reach a real model: httpx refuses any host but loopback."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


class RealNetworkBlocked(AssertionError):
    """A test tried to reach a host other than loopback."""


def _refuse_remote(request: httpx.Request) -> None:
    if request.url.host not in LOOPBACK_HOSTS:
        raise RealNetworkBlocked(f"tests may only reach loopback hosts, not {request.url.host!r}")


@pytest.fixture(autouse=True)
def _loopback_only(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Patch httpx's real transports (sync and async) to refuse non-loopback hosts."""
    send_async = httpx.AsyncHTTPTransport.handle_async_request
    send_sync = httpx.HTTPTransport.handle_request

    async def guarded_async(self: httpx.AsyncHTTPTransport, request: httpx.Request) -> httpx.Response:
        _refuse_remote(request)
        return await send_async(self, request)

    def guarded_sync(self: httpx.HTTPTransport, request: httpx.Request) -> httpx.Response:
        _refuse_remote(request)
        return send_sync(self, request)

    monkeypatch.setattr(httpx.AsyncHTTPTransport, "handle_async_request", guarded_async)
    monkeypatch.setattr(httpx.HTTPTransport, "handle_request", guarded_sync)
    yield
