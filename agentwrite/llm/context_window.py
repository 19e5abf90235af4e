"""Fit prompts and answers into the model's context window: how many tokens a prompt
takes, and how many that leaves for the answer.

A prompt's size is exact where the backend counts it (vLLM's ``/tokenize``, the in-process
model's tokenizer); otherwise, and for texts not yet in a prompt, it is estimated without a
tokenizer (:func:`estimate_tokens`) and corrected by a :class:`TokenGauge` that learns, from
the exact counts and the prompt tokens the server reports, how far the estimate undercounts
this model's tokenizer. What fits the text so far into the room left is ``prior_text``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from agentwrite.errors import ContextFull
from agentwrite.length import estimate_tokens
from agentwrite.llm.base import Message

_MESSAGE_OVERHEAD = 8
_CONTEXT_MARGIN = 64
_ANSWER_HEADROOM = 1.3
_ANSWER_EXTRA = 32
_MIN_ROOM = 32
_MAX_RATIO = 4.0
_REFUSAL_GROWTH = 1.1
_EXACT_KEPT = 16


@dataclass
class TokenGauge:
    """Prompt-token estimates corrected by what the server reported: ``ratio`` is the largest
    (reported / estimated) seen so far, never below 1, so that a tokenizer that spends more
    tokens than :func:`estimate_tokens` assumes (a small model on Chinese, say) gets prompts
    sized for it. A later prompt can still be denser than any before it; a refusal for length
    then raises the ratio by a tenth (:meth:`refused`).

    >>> gauge, ask = TokenGauge(), [{"role": "user", "content": "x" * 250}]  # 100 + 8 estimated
    >>> gauge.prompt_tokens(ask)
    108
    >>> gauge.observe(ask, 162); gauge.observe(ask, 120)
    >>> gauge.ratio, gauge.prompt_tokens(ask), gauge.text_tokens("x" * 250)
    (1.5, 162, 150)
    >>> gauge.refused(ask, 100); round(gauge.ratio, 3)
    1.65
    >>> gauge.counted(ask, 140); gauge.prompt_tokens(ask), round(gauge.ratio, 3)  # exact beats the estimate
    (140, 1.65)
    """

    ratio: float = 1.0
    exact: dict[tuple[tuple[str, str], ...], int] = field(default_factory=dict, repr=False)

    def prompt_tokens(self, messages: Sequence[Message]) -> int:
        """The prompt's size in tokens, chat-template overhead included: as counted, or
        estimated."""
        counted = self.exact.get(_key(messages))
        return counted if counted is not None else math.ceil(_estimate(messages) * self.ratio)

    def counted(self, messages: Sequence[Message], tokens: int) -> None:
        """Remember a prompt's exact size (the latest few) and learn from it."""
        if len(self.exact) >= _EXACT_KEPT:
            del self.exact[next(iter(self.exact))]
        self.exact[_key(messages)] = tokens
        self.observe(messages, tokens)

    def text_tokens(self, text: str) -> int:
        """A text's estimated size in tokens."""
        return math.ceil(estimate_tokens(text) * self.ratio)

    def observe(self, messages: Sequence[Message], reported: int) -> None:
        """Learn from the server's count of a prompt's tokens (0: it gave none)."""
        estimated = _estimate(messages)
        if reported > 0 and estimated > 0:
            self.ratio = min(_MAX_RATIO, max(self.ratio, reported / estimated))

    def refused(self, messages: Sequence[Message], at_least: int) -> None:
        """Learn from a refusal for length that says the prompt has ``at_least`` tokens: vLLM
        names only a lower bound (the window + 1 - max_tokens), so grow by a tenth as well."""
        self.observe(messages, at_least)
        self.ratio = min(_MAX_RATIO, self.ratio * _REFUSAL_GROWTH)


def _key(messages: Sequence[Message]) -> tuple[tuple[str, str], ...]:
    return tuple((m["role"], m["content"]) for m in messages)


def _estimate(messages: Sequence[Message]) -> int:
    return sum(estimate_tokens(m["content"]) + _MESSAGE_OVERHEAD for m in messages)


def answer_tokens(words: int, tokens_per_word: float) -> int:
    """The ``max_tokens`` that an answer of about ``words`` words is given: its estimated
    tokens with 30% headroom, and a few more for a heading.

    >>> answer_tokens(500, 1.6)
    1072
    """
    return math.ceil(words * tokens_per_word * _ANSWER_HEADROOM) + _ANSWER_EXTRA


def room_after(max_context: int, messages: list[Message], gauge: TokenGauge | None = None) -> int:
    """The tokens ``max_context`` leaves after the prompt (estimated, corrected by
    ``gauge``) and a safety margin of 1% of the window but at least 64 tokens.

    >>> room_after(1000, [{"role": "user", "content": "x" * 300}])  # 120 + 8 estimated
    808
    """
    room = max_context - (gauge or TokenGauge()).prompt_tokens(messages)
    return room - max(_CONTEXT_MARGIN, max_context // 100)


def output_room(
    max_context: int | None, messages: list[Message], wanted: int, gauge: TokenGauge | None = None
) -> int:
    """``wanted`` output tokens, capped to what the window leaves (``room_after``);
    ContextFull when too little is left.

    >>> ask = [{"role": "user", "content": "x" * 300}]  # 120 estimated tokens
    >>> output_room(None, ask, 5000), output_room(1000, ask, 5000), output_room(1000, ask, 200)
    (5000, 808, 200)
    >>> output_room(1000, ask, 5000, TokenGauge(ratio=2.0)), output_room(8192, ask, 9000)
    (680, 7983)
    """
    if max_context is None:
        return wanted
    room = room_after(max_context, messages, gauge)
    if room < _MIN_ROOM:
        raise ContextFull(f"the prompt leaves no room for output in a {max_context}-token context window")
    return min(wanted, room)
