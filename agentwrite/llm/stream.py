"""Assemble a streamed chat completion (server-sent events) into one ``Completion``.

A streamed answer arrives as ``data: {json}`` events: ``choices[0].delta.content``
pieces, a ``finish_reason`` on the last choice, a ``usage`` event when the request asked
for ``stream_options.include_usage``, then ``data: [DONE]``. Streaming keeps bytes
flowing while the model writes, so a client timeout bounds the silence between
events, not the whole generation (on a slow engine a long answer takes an hour).

An answer is complete once it has both a ``finish_reason`` and ``[DONE]`` (a stream cut
after the last piece of text would lose its usage); an ``error`` event raises. Nothing
partial ever becomes a completion.
"""

from __future__ import annotations

import json
from typing import Any

from agentwrite.domain import Usage
from agentwrite.llm.base import HALTED, Completion


class StreamError(Exception):
    """The stream cannot give a completion: ``status`` is the server's error code, if any."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class CompletionStream:
    """Feed it the lines of a streamed answer, then ask for the ``completion``.

    >>> stream = CompletionStream()
    >>> for line in ['data: {"choices": [{"delta": {"content": "Tea "}}]}', "",
    ...              ": a comment", 'data: {"choices": [{"delta": {"content": "grew."},',
    ...              'data: "finish_reason": "stop"}]}', "",
    ...              'data: {"choices": [], "usage": {"prompt_tokens": 5, "completion_tokens": 2}}',
    ...              "", "data: [DONE]", ""]:
    ...     _ = stream.feed(line)
    >>> done = stream.completion()
    >>> done.text, done.finish_reason, done.usage.completion_tokens
    ('Tea grew.', 'stop', 2)
    >>> cut = CompletionStream(); _ = cut.feed('data: {"choices": [{"delta": {"content": "Tea"}}]}')
    >>> _ = cut.feed("")
    >>> cut.completion()
    Traceback (most recent call last):
    ...
    agentwrite.llm.stream.StreamError: the stream ended before the answer did (no finish_reason)
    """

    def __init__(self) -> None:
        self._pieces: list[str] = []
        self._data: list[str] = []
        self.finish_reason: str | None = None
        self.usage: dict[str, Any] = {}
        self.done = False

    def feed(self, line: str) -> str:
        """One line of the body, without its line ending; a blank line ends an event.
        Returns the text this line completed ("" for most lines)."""
        if not line:
            before = len(self._pieces)
            self._event("\n".join(self._data))
            self._data.clear()
            return "".join(self._pieces[before:])
        if line.startswith("data:"):
            self._data.append(line.removeprefix("data:").removeprefix(" "))
        # other fields (event:, id:, retry:) and comments (":") carry nothing for us
        return ""

    def halted(self) -> Completion:
        """The answer so far, for a request stopped on purpose: the server sends no usage
        then, so each content event counts as one completion token (vLLM streams a token
        an event).

        >>> stream = CompletionStream()
        >>> for line in ['data: {"choices": [{"delta": {"content": "Tea "}}]}', "",
        ...              'data: {"choices": [{"delta": {"content": "tea"}}]}', ""]:
        ...     _ = stream.feed(line)
        >>> done = stream.halted()
        >>> done.text, done.finish_reason, done.usage.completion_tokens
        ('Tea tea', 'halted', 2)
        """
        usage = usage_of(self.usage) if self.usage else Usage(completion_tokens=len(self._pieces), requests=1)
        return Completion("".join(self._pieces), HALTED, usage)

    def completion(self) -> Completion:
        """The assembled answer; raise ``StreamError`` if the answer did not finish."""
        self._event("\n".join(self._data))  # a last event without its blank line
        self._data.clear()
        if self.finish_reason is None or not self.done:
            missing = "finish_reason" if self.finish_reason is None else "[DONE]"
            raise StreamError(f"the stream ended before the answer did (no {missing})")
        return Completion("".join(self._pieces), self.finish_reason, usage_of(self.usage))

    def _event(self, data: str) -> None:
        if not data or self.done:
            return
        if data.strip() == "[DONE]":
            self.done = True
            return
        try:
            event = json.loads(data)
        except ValueError:
            raise StreamError(f"an event is not JSON: {data[:80]!r}") from None
        if not isinstance(event, dict):
            raise StreamError("an event is not a JSON object")
        error = event.get("error")
        if error:
            message = error.get("message") if isinstance(error, dict) else str(error)
            code = error.get("code") if isinstance(error, dict) else None
            raise StreamError(
                f"the server failed mid-answer: {message}", code if isinstance(code, int) else None
            )
        self.usage = mapping(event.get("usage")) or self.usage
        choices = event.get("choices")
        if not isinstance(choices, list) or not choices:
            return
        choice = mapping(choices[0])
        content = mapping(choice.get("delta")).get("content")
        if isinstance(content, str):
            self._pieces.append(content)
        if choice.get("finish_reason"):
            self.finish_reason = str(choice["finish_reason"])


def usage_of(usage: dict[str, Any]) -> Usage:
    """One request's ``Usage`` from an answer's ``usage`` object (missing parts count 0).

    >>> usage_of({"prompt_tokens": 9, "completion_tokens": 2, "prompt_tokens_details": {"cached_tokens": 8}})
    Usage(prompt_tokens=9, completion_tokens=2, cached_tokens=8, requests=1)
    """
    details = mapping(usage.get("prompt_tokens_details"))
    return Usage(
        prompt_tokens=usage.get("prompt_tokens") or 0,
        completion_tokens=usage.get("completion_tokens") or 0,
        cached_tokens=details.get("cached_tokens") or 0,
        requests=1,
    )


def mapping(value: Any) -> dict[str, Any]:
    """``value`` if it is a JSON object, else an empty one (servers leave optional parts out)."""
    return value if isinstance(value, dict) else {}


__all__ = ["CompletionStream", "StreamError", "mapping", "usage_of"]
