"""A real OpenAI-compatible HTTP server for tests: loopback socket, background threads.

    with OpenAIServer(handler) as server:
        model = OpenAICompatModel(server.base_url)

It serves ``GET /v1/models`` and ``POST /v1/chat/completions`` (and vLLM's ``POST /tokenize``
when given a ``tokenizer`` that counts a request's messages). What each completion
request gets is decided by ``handler(request_json) -> Reply``: a completion, an HTTP
error, a raw (non-JSON or cut-short) body, each after an optional delay. Every request is
recorded with its headers, and the number of completion requests in flight is tracked.
A streamed answer can go out word by word (``Reply.completion(..., words_per_event=1,
trickle=0.001)``), as an engine writes; each request records how its answer went out
(``RecordedRequest.delivery``), including a client that hung up before the end.
Replies and their wire format are ``agentwrite.testing.replies``; the default handler,
``writer_handler``, a deterministic stand-in for a model, is
``agentwrite.testing.fake_writer``. Their names stay importable from here.
"""

from __future__ import annotations

import json
import re
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from agentwrite.testing.fake_writer import (
    PLAN_LINE_MARKER,
    WORDS_PER_PLANNED_SECTION,
    plan_lines,
    prose,
    requested_schema,
    writer_handler,
)
from agentwrite.testing.loopback import LoopbackServer, OwnedServer
from agentwrite.testing.replies import (
    EVENT_STREAM,
    Handler,
    Reply,
    completion_json,
    completion_of_sse,
    sse_body,
)


@dataclass
class Delivery:
    """How the answer to one request went out, filled in as it is written.

    ``content_events`` counts the server-sent events with text that were written whole
    into the socket, ``words_sent`` the whitespace-separated pieces of text in them (one
    token a word for the handlers here), out of ``content_events_total`` and
    ``words_total`` in the whole answer. ``aborted`` is set when the client closed the
    connection before the answer's end (a write failed: broken pipe or reset), and
    ``finished`` when the whole body was written. A write that the kernel accepted just
    before the client's close still counts as sent, so a hang-up shows up one or two
    events after the client's last read; with ``trickle=0`` a short answer may fit
    whole in the socket's buffer and then reads as ``finished`` even if the client never
    read it.
    """

    streamed: bool = False
    content_events: int = 0
    content_events_total: int = 0
    words_sent: int = 0
    words_total: int = 0
    aborted: bool = False
    finished: bool = False


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the server saw it (header names lower-cased), and how its answer
    went out (``delivery``, filled in while it is written)."""

    method: str
    path: str
    headers: dict[str, str]
    body: dict[str, Any] | None
    delivery: Delivery = field(default_factory=Delivery, compare=False)

    @property
    def aborted(self) -> bool:
        """The client hung up before the whole answer was written."""
        return self.delivery.aborted

    @property
    def content_events_sent(self) -> int:
        """Events with text written before the answer ended or the client hung up."""
        return self.delivery.content_events


class OpenAIServer(LoopbackServer):
    """The server, as a context manager. ``base_url`` ends in ``/v1``."""

    def __init__(
        self,
        handler: Handler | None = None,
        *,
        models: tuple[str, ...] = ("test-model",),
        max_model_len: int | None = 32768,
        tokenizer: Callable[[list[dict[str, str]]], int] | None = None,
    ) -> None:
        self.handler = handler or writer_handler
        self.tokenizer = tokenizer
        self.models = models
        self.max_model_len = max_model_len
        self.requests: list[RecordedRequest] = []
        self.in_flight = 0
        self.max_concurrency = 0
        super().__init__(_Server, _RequestHandler, name="openai-test-server")

    def completion_requests(self) -> list[RecordedRequest]:
        """The recorded ``POST /v1/chat/completions`` requests, in arrival order."""
        return [r for r in self.requests if r.path.endswith("/chat/completions")]

    def aborted_requests(self) -> list[RecordedRequest]:
        """The completion requests whose client hung up before the answer's end (call
        ``wait_idle`` first: a hang-up is seen at the server's next write).

        >>> import httpx
        >>> def engine(request):  # 400 tokens, one an event, a millisecond apart
        ...     return Reply.completion("tea " * 400, "length", trickle=0.001, words_per_event=1)
        >>> with OpenAIServer(engine) as server:
        ...     url = server.base_url + "/chat/completions"
        ...     with httpx.stream("POST", url, json={"stream": True}) as answer:
        ...         read = [line for line, _ in zip(answer.iter_lines(), range(40))]  # stop early
        ...     server.wait_idle()
        True
        >>> [request] = server.aborted_requests()
        >>> request.content_events_sent < 50, request.delivery.words_total
        (True, 400)
        """
        return [r for r in self.completion_requests() if r.aborted]

    def wait_idle(self, timeout: float = 5.0) -> bool:
        """Wait until no completion request is in flight, so that every answer has ended
        or seen its client hang up (leaving the ``with`` block first would cut answers
        still streaming, unrecorded); False if one is still going after ``timeout`` s."""
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                if self.in_flight == 0:
                    return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.005)

    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self.requests.append(request)

    def _enter_request(self) -> None:
        with self._lock:
            self.in_flight += 1
            self.max_concurrency = max(self.max_concurrency, self.in_flight)

    def _leave_request(self) -> None:
        with self._lock:
            self.in_flight -= 1


class _Server(OwnedServer):
    owner: OpenAIServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hung up (after its own timeout) is expected; anything else is not."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server
    _recorded: RecordedRequest | None = None

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: tests read ``OpenAIServer.requests`` instead."""

    def do_GET(self) -> None:
        owner = self.server.owner
        self._recorded = RecordedRequest("GET", self.path, _lower(self.headers), None)
        owner._record(self._recorded)
        if self.path.rstrip("/") != "/v1/models":
            self._send(Reply.error(404, f"no route {self.path}"))
            return
        cards = [
            {"id": name, "object": "model", "owned_by": "test", "max_model_len": owner.max_model_len}
            for name in owner.models
        ]
        self._send_json({"object": "list", "data": cards})

    def do_POST(self) -> None:
        owner = self.server.owner
        length = int(self.headers.get("Content-Length") or 0)
        try:
            body = json.loads(self.rfile.read(length) or b"null")
        except ValueError:
            body = None
        self._recorded = RecordedRequest("POST", self.path, _lower(self.headers), body)
        owner._record(self._recorded)
        if self.path.rstrip("/") == "/tokenize" and owner.tokenizer and isinstance(body, dict):
            self._send_json(
                {"count": owner.tokenizer(body["messages"]), "max_model_len": owner.max_model_len}
            )
            return
        if self.path.rstrip("/") != "/v1/chat/completions":
            self._send(Reply.error(404, f"no route {self.path}"))
            return
        if not isinstance(body, dict):
            self._send(Reply.error(400, "the request body is not a JSON object"))
            return
        owner._enter_request()
        try:
            reply = owner.handler(body)
            if reply.delay and owner._closing.wait(reply.delay):
                self.close_connection = True  # the server is shutting down
                return
            if reply.body is None and body.get("stream"):
                events = sse_body(completion_json(body, reply), _include_usage(body), reply.words_per_event)
                headers = {**EVENT_STREAM, **reply.headers}
                streamed = Reply(
                    reply.status, body=events, headers=headers, trickle=reply.trickle, pace=reply.pace
                )
                self._send(streamed)
            elif reply.body is None:
                self._send_json(completion_json(body, reply), reply.status, reply.headers)
            else:
                self._send(reply)
        finally:
            owner._leave_request()

    def _send_json(self, data: Any, status: int = 200, headers: dict[str, str] | None = None) -> None:
        self._send(Reply(status=status, body=json.dumps(data).encode(), headers=dict(headers or {})))

    def _send(self, reply: Reply) -> None:
        body = reply.body or b""
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.headers.get("Content-Type", "application/json"))
        for name, value in reply.headers.items():
            if name.lower() != "content-type":
                self.send_header(name, value)
        self.send_header("Content-Length", str(reply.declared_length or len(body)))
        self.end_headers()
        delivery = self._recorded.delivery if self._recorded is not None else Delivery()
        streamed = reply.headers.get("Content-Type", "").startswith("text/event-stream")
        # each event with its blank line, and the words of text it carries
        events = [(e, _event_words(e) if streamed else None) for e in re.split(rb"(?<=\n\n)", body)]
        delivery.streamed = streamed
        delivery.content_events_total = sum(1 for _, words in events if words is not None)
        delivery.words_total = sum(words or 0 for _, words in events)
        try:
            if reply.trickle or reply.pace:
                for event, words in events:
                    wait = reply.pace(words or 0) if reply.pace else reply.trickle
                    if self.server.owner._closing.wait(wait):
                        self.close_connection = True
                        return
                    self.wfile.write(event)
                    self.wfile.flush()
                    _count_sent(delivery, words)
            else:
                self.wfile.write(body)
                self.wfile.flush()
                for _, words in events:
                    _count_sent(delivery, words)
        except ConnectionError:  # BrokenPipeError, ConnectionResetError: the client hung up
            delivery.aborted = True
            self.close_connection = True
            return
        delivery.finished = True
        if reply.declared_length is not None and reply.declared_length > len(body):
            self.close_connection = True


def _event_words(event: bytes) -> int | None:
    """The number of words of text in one server-sent event, None if it carries no text.

    >>> _event_words(b'data: {"choices": [{"delta": {"content": "Tea grew "}}]}\\n\\n')
    2
    >>> _event_words(b"data: [DONE]\\n\\n") is None, _event_words(b'data: {"choices": []}\\n\\n') is None
    (True, True)
    """
    if not event.startswith(b"data: {"):
        return None
    try:
        data = json.loads(event[6:])
        content = data["choices"][0]["delta"]["content"]
    except (ValueError, KeyError, IndexError, TypeError):
        return None
    return len(content.split()) if isinstance(content, str) else None


def _count_sent(delivery: Delivery, words: int | None) -> None:
    if words is not None:
        delivery.content_events += 1
        delivery.words_sent += words


def _lower(headers: Any) -> dict[str, str]:
    return {name.lower(): value for name, value in headers.items()}


def _include_usage(request: dict[str, Any]) -> bool:
    options = request.get("stream_options")
    return isinstance(options, dict) and bool(options.get("include_usage"))


__all__ = [
    "PLAN_LINE_MARKER",
    "WORDS_PER_PLANNED_SECTION",
    "Delivery",
    "Handler",
    "OpenAIServer",
    "RecordedRequest",
    "Reply",
    "completion_of_sse",
    "plan_lines",
    "prose",
    "requested_schema",
    "sse_body",
    "writer_handler",
]
