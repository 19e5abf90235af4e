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
``writer_handler`` is a deterministic stand-in for a model, good enough for the agent to
plan and write a whole document against it.
"""

from __future__ import annotations

import json
import math
import re
import sys
import time
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from agentwrite.length import parse_target
from agentwrite.testing.loopback import LoopbackServer, OwnedServer
from agentwrite.testing.on_topic import instruction_words, weave
from agentwrite.testing.schema_answers import schema_answer, topical

EVENT_STREAM = {"Content-Type": "text/event-stream"}


@dataclass(frozen=True)
class Reply:
    """What the server answers to one request. Build one with ``completion``, ``error``
    or ``raw``; ``delay`` seconds pass before anything is sent. ``pace``, when set, replaces
    ``trickle``: called before each event of a streamed answer with the words it carries (0
    for the last events), it says how many seconds to wait, as an engine whose speed depends
    on its load would (``dataclasses.replace`` a reply to set it)."""

    status: int = 200
    text: str | None = None
    finish_reason: str = "stop"
    usage: dict[str, Any] | None = None
    body: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    declared_length: int | None = None
    trickle: float = 0.0
    words_per_event: int = 3
    pace: Callable[[int], float] | None = None

    @classmethod
    def completion(
        cls,
        text: str,
        finish_reason: str = "stop",
        usage: dict[str, Any] | None = None,
        delay: float = 0.0,
        trickle: float = 0.0,
        words_per_event: int = 3,
    ) -> Reply:
        """A chat completion; ``usage`` defaults to one token per whitespace-separated piece.
        Streamed, it goes out ``words_per_event`` words to an event, the events ``trickle``
        seconds apart (a slow engine writing). ``words_per_event=1`` with a small trickle
        (a millisecond) streams like an engine, one token at a time: a client that stops
        reading part-way is then seen to hang up (``Delivery.aborted``), since the answer
        has not all been written into the socket's buffer before it does."""
        return cls(
            text=text,
            finish_reason=finish_reason,
            usage=usage,
            delay=delay,
            trickle=trickle,
            words_per_event=words_per_event,
        )

    @classmethod
    def events(cls, body: str, trickle: float = 0.0) -> Reply:
        """A streamed answer of exactly these server-sent events (``data: ...`` lines)."""
        return cls(body=body.encode(), headers=dict(EVENT_STREAM), trickle=trickle)

    @classmethod
    def error(
        cls,
        status: int,
        message: str = "injected error",
        headers: dict[str, str] | None = None,
        delay: float = 0.0,
    ) -> Reply:
        """An error status with an OpenAI-style ``{"error": {"message": ...}}`` body."""
        body = json.dumps({"error": {"message": message, "type": "TestError", "code": status}}).encode()
        return cls(status=status, body=body, headers=dict(headers or {}), delay=delay)

    @classmethod
    def raw(
        cls, body: bytes | str, status: int = 200, declared_length: int | None = None, delay: float = 0.0
    ) -> Reply:
        """Exactly these bytes. A ``declared_length`` above the body's length announces more
        than is sent, then the connection is closed: a body cut short."""
        data = body.encode() if isinstance(body, str) else body
        return cls(status=status, body=data, declared_length=declared_length, delay=delay)


Handler = Callable[[dict[str, Any]], Reply]


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
                events = sse_body(_completion_json(body, reply), _include_usage(body), reply.words_per_event)
                headers = {**EVENT_STREAM, **reply.headers}
                streamed = Reply(
                    reply.status, body=events, headers=headers, trickle=reply.trickle, pace=reply.pace
                )
                self._send(streamed)
            elif reply.body is None:
                self._send_json(_completion_json(body, reply), reply.status, reply.headers)
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


def _completion_json(request: dict[str, Any], reply: Reply) -> dict[str, Any]:
    text = reply.text or ""
    usage = reply.usage or {
        "prompt_tokens": len(_prompt_text(request).split()),
        "completion_tokens": len(text.split()),
    }
    usage = {**usage, "total_tokens": usage.get("prompt_tokens", 0) + (usage.get("completion_tokens") or 0)}
    return {
        "id": f"chatcmpl-{zlib.crc32(json.dumps(request, sort_keys=True).encode()):08x}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": request.get("model", ""),
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text},
                "finish_reason": reply.finish_reason,
            }
        ],
        "usage": usage,
    }


def sse_body(completion: dict[str, Any], include_usage: bool = True, words_per_event: int = 3) -> bytes:
    """A chat completion as the server-sent events of a streamed answer: the text in
    pieces of ``words_per_event`` words, the finish reason on the last piece, usage,
    ``[DONE]``.

    >>> answer = {"choices": [{"message": {"content": "Tea grew slowly here."}, "finish_reason": "stop"}],
    ...           "usage": {"prompt_tokens": 3}}
    >>> sse_body(answer).count(b"data: "), completion_of_sse(sse_body(answer)) == answer
    (4, True)
    >>> word_by_word = sse_body(answer, words_per_event=1)
    >>> word_by_word.count(b"data: "), completion_of_sse(word_by_word) == answer
    (6, True)
    """
    choice = completion["choices"][0]
    words = re.findall(r"\S+\s*|\s+", choice["message"]["content"] or "") or [""]
    step = max(1, words_per_event)
    pieces = ["".join(words[i : i + step]) for i in range(0, len(words), step)]
    events: list[dict[str, Any]] = [
        {"choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}]} for piece in pieces
    ]
    events[-1]["choices"][0]["finish_reason"] = choice["finish_reason"]
    if include_usage:
        events.append({"choices": [], "usage": completion.get("usage")})
    lines = [f"data: {json.dumps(event)}\n\n" for event in events] + ["data: [DONE]\n\n"]
    return "".join(lines).encode()


def completion_of_sse(body: bytes) -> dict[str, Any]:
    """The chat completion a well-formed ``sse_body`` carries (for proxies that alter it)."""
    events = [json.loads(line[6:]) for line in body.decode().splitlines() if line.startswith("data: {")]
    text = "".join(e["choices"][0]["delta"]["content"] for e in events if e["choices"])
    finish = next(e["choices"][0]["finish_reason"] for e in reversed(events) if e["choices"])
    usage = next((e["usage"] for e in events if not e["choices"]), None)
    return {"choices": [{"message": {"content": text}, "finish_reason": finish}], "usage": usage}


def _include_usage(request: dict[str, Any]) -> bool:
    options = request.get("stream_options")
    return isinstance(options, dict) and bool(options.get("include_usage"))


def _prompt_text(request: dict[str, Any]) -> str:
    return "\n".join(str(m.get("content", "")) for m in request.get("messages", []) if isinstance(m, dict))


# A deterministic "model" ------------------------------------------------------------

_VOCABULARY = [
    "river",
    "mountain",
    "valley",
    "market",
    "temple",
    "garden",
    "road",
    "village",
    "morning",
    "evening",
    "traveller",
    "guide",
    "tea",
    "rice",
    "bridge",
    "lake",
    "season",
    "festival",
    "history",
    "culture",
    "path",
    "forest",
    "city",
    "stone",
    "wind",
    "light",
    "quiet",
    "ancient",
    "bright",
    "green",
    "early",
    "late",
    "slowly",
    "often",
    "always",
    "gently",
    "walk",
    "visit",
    "taste",
    "follow",
    "remember",
    "discover",
    "return",
    "wander",
    "notice",
]
_DEFAULT_MAX_TOKENS = 1024
PLAN_LINE_MARKER = "- Word Count:"
"""What marks a request for AgentWrite's plan lines: the answer format's own field."""
WORDS_PER_PLANNED_SECTION = 500
"""How many words of the target a section of ``plan_lines`` takes (the format has no bounds)."""


def writer_handler(request: dict[str, Any]) -> Reply:
    """Answer like a cooperative model, one token per word.

    A request for JSON output (``response_format`` of type ``json_schema``) gets what its
    schema asks for (``schema_answer``: a plan gets the fewest sections the schema allows,
    each of the smallest budget, which the agent scales to its target, and its strings name
    the instruction's subject, in its script). A prompt that shows
    AgentWrite's plan line format (its ``- Word Count:`` marker) gets those lines
    (``plan_lines``). Any other request gets prose of ``min_tokens`` words when given, else
    about 0.6 x ``max_tokens``, capped at ``max_tokens`` words with finish reason
    ``"length"`` when it hits the cap; the prose names the instruction's subject
    (``agentwrite.testing.on_topic``).

    >>> schema = {"type": "object", "required": ["title"], "properties": {"title": {"type": "string"}}}
    >>> writer_handler({"response_format": {"type": "json_schema", "json_schema": {"schema": schema}}}).text
    '{"title": "Quiet river mornings"}'
    >>> reply = writer_handler({"max_tokens": 50, "messages": [{"role": "user", "content": "Write."}]})
    >>> len(reply.text.split()), reply.finish_reason
    (30, 'stop')
    """
    prompt = _prompt_text(request)
    messages = [m for m in request.get("messages", []) if isinstance(m, dict)]
    users = [str(m.get("content", "")) for m in messages if m.get("role") == "user"]
    topic = instruction_words(users[0] if users else "")
    if (schema := requested_schema(request)) is not None:
        return Reply.completion(json.dumps(schema_answer(schema, topic=topic), ensure_ascii=False))
    if PLAN_LINE_MARKER in prompt:
        return Reply.completion(plan_lines(prompt))
    max_tokens = int(request.get("max_tokens") or _DEFAULT_MAX_TOKENS)
    words = int(request.get("min_tokens") or 0) or max(1, int(max_tokens * 0.6))
    finish = "length" if words >= max_tokens else "stop"
    text = prose(min(words, max_tokens), seed=zlib.crc32(prompt.encode()), topic=topic)
    return Reply.completion(text, finish)


def requested_schema(request: dict[str, Any]) -> dict[str, Any] | None:
    """The JSON schema a chat-completions request asks its answer to match, if any.

    >>> requested_schema({"response_format": {"type": "json_schema", "json_schema": {"schema": {}}}})
    {}
    >>> requested_schema({"response_format": {"type": "text"}}) is None, requested_schema({}) is None
    (True, True)
    """
    response_format = request.get("response_format")
    if not isinstance(response_format, dict) or response_format.get("type") != "json_schema":
        return None
    schema = (response_format.get("json_schema") or {}).get("schema")
    return schema if isinstance(schema, dict) else {}


def plan_lines(prompt: str) -> str:
    """A plan in AgentWrite's line format, one section per ``WORDS_PER_PLANNED_SECTION`` of
    the target (the largest word count the prompt names, 10,000 if none), split evenly, each
    main point a distinct phrase that names the instruction's subject (``topical``).

    >>> print(plan_lines("Write a 1200-word guide to tea."))
    Title: A Test Document
    Paragraph 1 - Main Point: Quiet river guide mornings. - Word Count: 400 words
    Paragraph 2 - Main Point: Ancient mountain guide evenings. - Word Count: 400 words
    Paragraph 3 - Main Point: Bright valley guide seasons. - Word Count: 400 words
    """
    target = parse_target(prompt) or 10_000
    count = max(1, math.ceil(target / WORDS_PER_PLANNED_SECTION))
    budgets = [target // count + (1 if i < target % count else 0) for i in range(count)]
    topic = instruction_words(prompt)
    lines = ["Title: A Test Document"]
    lines += [
        f"Paragraph {i} - Main Point: {topical(i - 1, topic)}. {PLAN_LINE_MARKER} {words} words"
        for i, words in enumerate(budgets, 1)
    ]
    return "\n".join(lines)


def prose(words: int, seed: int = 0, topic: Sequence[str] = ()) -> str:
    """``words`` words (as ``count_words`` counts them) of filler prose in sentences and
    paragraphs, the same for the same seed. Words are drawn by a hash of seed and position,
    so that no two sentences repeat (as a model that writes well would not); ``topic``'s
    words are woven in (``agentwrite.testing.on_topic.weave``).

    >>> prose(12, seed=3)
    'Stone evening tea notice lake bridge market light follow slowly. Late quiet.'
    >>> prose(12, seed=3, topic=["essay", "tea"])
    'Stone about essay tea essay tea market light follow slowly. Late about.'
    """
    drawn = [_VOCABULARY[zlib.crc32(f"{seed}:{i}".encode()) % len(_VOCABULARY)] for i in range(words)]
    weave(drawn, topic, sentence_words=10)
    out = []
    for i, word in enumerate(drawn):
        if i % 10 == 0:
            word = word.capitalize()
        end_of_sentence = i % 10 == 9 or i == words - 1
        out.append(word + ("." if end_of_sentence else ""))
        if end_of_sentence and i % 80 == 79 and i != words - 1:
            out.append("\n\n")
    return " ".join(out).replace(" \n\n ", "\n\n")
