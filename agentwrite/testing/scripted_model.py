"""A scripted chat model for tests: it replays what it is given and records every call.

>>> import asyncio
>>> fake = ScriptedModel(["Hello there."])
>>> asyncio.run(fake.complete([{"role": "user", "content": "hi"}], GenerationParams(max_tokens=8))).text
'Hello there.'
>>> fake.calls[0].messages[0]["content"]
'hi'
"""

from __future__ import annotations

import asyncio
import re
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from agentwrite.domain import Usage
from agentwrite.llm.base import HALTED, Capabilities, Completion, GenerationParams, Message

Responder = Callable[[list[Message], GenerationParams], "Completion | str"]
Script = str | Completion | BaseException | Responder


@dataclass
class RecordedCall:
    """One request the fake received, with when it started and ended (monotonic s)."""

    messages: list[Message]
    params: GenerationParams
    started: float
    ended: float = 0.0

    @property
    def prompt(self) -> str:
        """All message contents joined, for asserting on what was sent."""
        return "\n".join(m["content"] for m in self.messages)


class ScriptedModel:
    """Replays scripted replies in order, then falls back to ``responder``.

    A reply is a string (finish reason ``"stop"``), a ``Completion``, an exception to
    raise, or a callable of ``(messages, params)``. ``delay`` seconds pass in each call,
    so that concurrent calls overlap; ``max_concurrency`` records how many did.
    ``capabilities`` and ``context_window`` are what it declares (by default: everything but
    exact token counts, and no known window); ``token_counter`` counts a prompt's tokens for
    ``count_tokens`` when ``capabilities.tokenize`` is on.
    """

    def __init__(
        self,
        script: Iterable[Script] = (),
        *,
        responder: Responder | None = None,
        delay: float = 0.0,
        name: str = "scripted",
        capabilities: Capabilities | None = None,
        context_window: int | None = None,
        token_counter: Callable[[list[Message]], int] | None = None,
    ) -> None:
        self._script: deque[Script] = deque(script)
        self._responder = responder
        self._delay = delay
        self._name = name
        self.capabilities = capabilities or Capabilities()
        self._window = context_window
        self._count = token_counter
        self.calls: list[RecordedCall] = []
        self.in_flight = 0
        self.max_concurrency = 0

    @property
    def name(self) -> str:
        return self._name

    async def context_window(self) -> int | None:
        return self._window

    async def count_tokens(self, messages: list[Message]) -> int | None:
        """``token_counter``'s count where one was given (and ``capabilities.tokenize``)."""
        return self._count(messages) if self._count and self.capabilities.tokenize else None

    def enqueue(self, *items: Script) -> None:
        self._script.extend(items)

    async def complete(self, messages: list[Message], params: GenerationParams) -> Completion:
        call = RecordedCall([dict(m) for m in messages], params, time.monotonic())  # type: ignore[misc]
        self.calls.append(call)
        self.in_flight += 1
        self.max_concurrency = max(self.max_concurrency, self.in_flight)
        try:
            if self._delay:
                await asyncio.sleep(self._delay)
            item: Script
            if self._script:
                item = self._script.popleft()
            elif self._responder is not None:
                item = self._responder
            else:
                raise AssertionError("ScriptedModel ran out of scripted replies")
            if isinstance(item, BaseException):
                raise item
            if callable(item):
                item = item(call.messages, params)
            if isinstance(item, str):
                item = Completion(item, "stop", _usage(call.prompt, item))
            return _watched(item, params, call.prompt)
        finally:
            self.in_flight -= 1
            call.ended = time.monotonic()

    async def aclose(self) -> None:
        return None


def _watched(completion: Completion, params: GenerationParams, prompt: str) -> Completion:
    """The completion as a streaming server would give it to ``params.watch``: word by
    word, cut where the watch stops it.

    >>> seen = []
    >>> def watch(piece):
    ...     seen.append(piece)
    ...     return "stop" in piece
    >>> done = _watched(Completion("go on stop here", "stop", Usage()), GenerationParams(8, watch=watch), "")
    >>> done.text, done.finish_reason, seen
    ('go on stop', 'halted', ['go', ' on', ' stop'])
    """
    if params.watch is None:
        return completion
    pieces = re.findall(r"\s*\S+", completion.text)
    for i, piece in enumerate(pieces):
        if params.watch(piece):
            text = "".join(pieces[: i + 1])
            return Completion(text, HALTED, _usage(prompt, text))
    return completion


def _usage(prompt: str, text: str) -> Usage:
    """A plausible usage record: one token per whitespace-separated piece."""
    return Usage(prompt_tokens=len(prompt.split()), completion_tokens=len(text.split()), requests=1)
