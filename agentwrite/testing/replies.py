"""What the loopback fakes answer, and how an answer goes on the wire.

A ``Reply`` is one request's answer (a completion, an HTTP error, exact bytes, exact
server-sent events); a ``Handler`` makes one from a request's JSON. ``completion_json`` is
a reply's OpenAI chat completion, ``sse_body`` the same streamed as server-sent events,
``completion_of_sse`` reads one back (for proxies that alter it).
"""

from __future__ import annotations

import json
import re
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

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


def completion_json(request: dict[str, Any], reply: Reply) -> dict[str, Any]:
    text = reply.text or ""
    usage = reply.usage or {
        "prompt_tokens": len(prompt_text(request).split()),
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


def prompt_text(request: dict[str, Any]) -> str:
    return "\n".join(str(m.get("content", "")) for m in request.get("messages", []) if isinstance(m, dict))
