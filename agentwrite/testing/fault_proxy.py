"""A fault-injecting HTTP proxy for tests, on a loopback socket, in background threads.

    with OpenAIServer() as upstream, FaultProxy(upstream.base_url, seeded(0.4, seed=7)) as proxy:
        model = OpenAICompatModel(proxy.base_url)

Every chat-completions request gets a fault from the schedule (or none) and is then
answered by the upstream server, changed, or not answered at all: error statuses with and
without ``Retry-After``, a stall past the client's timeout, a connection dropped mid-body,
a truncated or non-JSON body, an empty completion, a completion cut short with
``finish_reason: "length"``, an error body that echoes the request's ``Authorization``
header, a delay, or a response held back until a later one has gone out (reordering).
Other requests (``GET /v1/models``) pass through. ``injections`` records what was done
to which request; every body the proxy makes up carries ``MARKER``, so that a test can
prove no fault text reached a document.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import random
import socket
import sys
import threading
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import urlsplit

from agentwrite.testing.loopback import LoopbackServer, OwnedServer
from agentwrite.testing.replies import completion_of_sse, sse_body

MARKER = "FAULT-INJECTED"


class Fault(StrEnum):
    HTTP_500 = "http 500"
    HTTP_502 = "http 502"
    HTTP_503 = "http 503"
    HTTP_503_RETRY_AFTER = "http 503 + Retry-After"
    HTTP_429 = "http 429"
    HTTP_429_RETRY_AFTER = "http 429 + Retry-After"
    STALL = "stall past timeout"
    DROP = "connection dropped mid-body"
    TRUNCATED = "truncated JSON body"
    NOT_JSON = "non-JSON body"
    EMPTY = "empty completion"
    CUT_SHORT = "cut short (finish_reason length)"
    ECHO_AUTH = "error echoing the Authorization header"
    DELAY = "delayed"
    REORDER = "reordered"


FAILING = frozenset(
    {
        Fault.HTTP_500,
        Fault.HTTP_502,
        Fault.HTTP_503,
        Fault.HTTP_503_RETRY_AFTER,
        Fault.HTTP_429,
        Fault.HTTP_429_RETRY_AFTER,
        Fault.STALL,
        Fault.DROP,
        Fault.TRUNCATED,
        Fault.NOT_JSON,
        Fault.ECHO_AUTH,
    }
)
"""Faults after which the request has failed and the client must try again."""

ALL_FAULTS: tuple[Fault, ...] = tuple(Fault)

_STATUS = {
    Fault.HTTP_500: 500,
    Fault.HTTP_502: 502,
    Fault.HTTP_503: 503,
    Fault.HTTP_503_RETRY_AFTER: 503,
    Fault.HTTP_429: 429,
    Fault.HTTP_429_RETRY_AFTER: 429,
    Fault.ECHO_AUTH: 500,
}
_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "host"}

Schedule = Callable[[int], "Fault | None"]
"""Request number (1 for the first completion request) -> the fault to inject, if any."""


def seeded(rate: float, seed: int, kinds: Sequence[Fault] = ALL_FAULTS) -> Schedule:
    """Fault each request with probability ``rate``, the kind drawn from ``kinds``; the
    same seed and request number always give the same answer.

    >>> schedule = seeded(0.5, seed=1, kinds=[Fault.HTTP_503])
    >>> [schedule(n) for n in range(1, 5)] == [schedule(n) for n in range(1, 5)]
    True
    >>> seeded(0.0, seed=1)(1) is None, seeded(1.0, seed=1, kinds=[Fault.STALL])(9)
    (True, <Fault.STALL: 'stall past timeout'>)
    """
    if not kinds:
        raise ValueError("no fault kinds to draw from")

    def schedule(n: int) -> Fault | None:
        rng = random.Random(seed * 1_000_003 + n)
        return rng.choice(list(kinds)) if rng.random() < rate else None

    return schedule


def scripted(*faults: Fault | None) -> Schedule:
    """The n-th request gets ``faults[n - 1]``; requests after the script get none.

    >>> s = scripted(Fault.HTTP_500, None)
    >>> s(1), s(2), s(3)
    (<Fault.HTTP_500: 'http 500'>, None, None)
    """
    return lambda n: faults[n - 1] if n <= len(faults) else None


@dataclass(frozen=True)
class Injection:
    """What the proxy did to one completion request."""

    number: int
    fault: Fault | None


class FaultProxy(LoopbackServer):
    """The proxy, as a context manager. ``base_url`` ends in ``/v1`` like the upstream's.

    ``stall`` is how long a stalled request is held before its connection is closed (set
    it above the client's timeout); ``delay`` is the wait of a delayed response; a
    reordered response waits until another response has been sent, at most ``hold``
    seconds. ``port`` 0 takes a free port; pass an old proxy's port to come back on it.
    """

    def __init__(
        self,
        upstream: str,
        schedule: Schedule | None = None,
        *,
        stall: float = 2.0,
        delay: float = 0.2,
        hold: float = 0.3,
        retry_after: str = "0",
        port: int = 0,
    ) -> None:
        parts = urlsplit(upstream)
        self.upstream_host, self.upstream_port = parts.hostname or "127.0.0.1", parts.port or 80
        self.schedule = schedule or (lambda n: None)
        self.stall, self.delay, self.hold, self.retry_after = stall, delay, hold, retry_after
        self.injections: list[Injection] = []
        self._responses_sent = 0
        self._connections: set[Any] = set()
        super().__init__(_ProxyServer, _ProxyHandler, name="fault-proxy", port=port)
        self._sent = threading.Condition(self._lock)

    def counts(self) -> Counter[Fault]:
        """How many requests got each fault."""
        with self._lock:
            return Counter(i.fault for i in self.injections if i.fault is not None)

    @property
    def requests(self) -> int:
        """Completion requests seen so far."""
        with self._lock:
            return len(self.injections)

    @property
    def faulted(self) -> int:
        """Completion requests that got any fault."""
        return sum(self.counts().values())

    def _stop(self) -> None:
        with self._sent:
            self._sent.notify_all()
        super()._stop()
        with self._lock:  # kept-alive connections end too: the server is gone, not just closed
            for connection in self._connections:
                with contextlib.suppress(OSError):
                    connection.shutdown(socket.SHUT_RDWR)

    def _next(self) -> tuple[int, Fault | None]:
        with self._lock:
            number = len(self.injections) + 1
            fault = self.schedule(number)
            self.injections.append(Injection(number, fault))
            return number, fault

    def _mark_sent(self) -> None:
        with self._sent:
            self._responses_sent += 1
            self._sent.notify_all()

    def _wait_for_another_response(self) -> None:
        with self._sent:
            seen = self._responses_sent
            self._sent.wait_for(
                lambda: self._responses_sent > seen or self._closing.is_set(), timeout=self.hold
            )

    def forward(
        self, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict, bytes]:
        """Send the request on to the upstream server; its status, headers and body."""
        conn = http.client.HTTPConnection(self.upstream_host, self.upstream_port, timeout=60)
        try:
            conn.request(method, path, body=body or None, headers=headers)
            response = conn.getresponse()
            data = response.read()
            kept = {k: v for k, v in response.getheaders() if k.lower() not in _HOP_BY_HOP}
            return response.status, kept, data
        finally:
            conn.close()


class _ProxyServer(OwnedServer):
    owner: FaultProxy

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients hang up on stalls and drops on purpose; anything else is reported."""
        if not isinstance(sys.exc_info()[1], ConnectionError | TimeoutError):
            super().handle_error(request, client_address)


class _ProxyHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _ProxyServer

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: tests read ``FaultProxy.injections``."""

    def setup(self) -> None:
        super().setup()
        with self.server.owner._lock:
            self.server.owner._connections.add(self.connection)

    def finish(self) -> None:
        with self.server.owner._lock:
            self.server.owner._connections.discard(self.connection)
        super().finish()

    def do_GET(self) -> None:
        self._handle(b"")

    def do_POST(self) -> None:
        self._handle(self.rfile.read(int(self.headers.get("Content-Length") or 0)))

    def _handle(self, body: bytes) -> None:
        owner = self.server.owner
        headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
        if not self.path.rstrip("/").endswith("/chat/completions"):
            self._send(*owner.forward(self.command, self.path, headers, body))
            return
        _, fault = owner._next()
        if fault in _STATUS:
            message = f"{MARKER}: {fault}"
            if fault is Fault.ECHO_AUTH:
                message += f" (request had Authorization: {self.headers.get('Authorization')})"
            extra = {"Retry-After": owner.retry_after} if "Retry-After" in str(fault) else {}
            error = json.dumps({"error": {"message": message, "type": "InjectedFault"}}).encode()
            self._send(_STATUS[fault], {"Content-Type": "application/json", **extra}, error)
            return
        if fault is Fault.STALL:
            owner._closing.wait(owner.stall)
            self.close_connection = True
            return
        if fault is Fault.NOT_JSON:
            page = f"<html><body><h1>502 Bad Gateway</h1>{MARKER}</body></html>".encode()
            self._send(200, {"Content-Type": "text/html"}, page)
            return
        status, answer_headers, data = owner.forward(self.command, self.path, headers, body)
        if fault is Fault.DROP:
            self._send(status, answer_headers, data[: len(data) // 2], declared=len(data))
            return
        if fault is Fault.TRUNCATED:
            data = data[: len(data) // 2]
        elif fault in (Fault.EMPTY, Fault.CUT_SHORT) and status == 200:
            data = _change_completion(data, fault)
        elif fault is Fault.DELAY:
            owner._closing.wait(owner.delay)
        elif fault is Fault.REORDER:
            owner._wait_for_another_response()
        self._send(status, answer_headers, data)

    def _send(self, status: int, headers: dict[str, str], body: bytes, declared: int | None = None) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(declared if declared is not None else len(body)))
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()
        if declared is not None and declared > len(body):
            self.close_connection = True
        self.server.owner._mark_sent()


def _change_completion(data: bytes, fault: Fault) -> bytes:
    """An upstream completion emptied, or cut to its first third with ``finish_reason: length``
    (streamed answers stay streamed)."""
    streamed = data.startswith(b"data:")
    answer = completion_of_sse(data) if streamed else json.loads(data)
    choice = answer["choices"][0]
    text = choice["message"]["content"] or ""
    if fault is Fault.EMPTY:
        choice["message"]["content"] = ""
    else:
        words = text.split(" ")
        choice["message"]["content"] = " ".join(words[: max(1, len(words) // 3)])
        choice["finish_reason"] = "length"
    return sse_body(answer) if streamed else json.dumps(answer).encode()
