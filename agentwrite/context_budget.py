"""Fit prompts and answers into the model's context window.

A prompt's size is exact where the backend counts it (vLLM's ``/tokenize``, the in-process
model's tokenizer); otherwise, and for texts not yet in a prompt, it is estimated without a
tokenizer (:func:`estimate_tokens`) and corrected by a :class:`TokenGauge` that learns, from
the exact counts and the prompt tokens the server reports, how far the estimate undercounts
this model's tokenizer. Recent sections stay verbatim; when the whole
text so far would not fit, the earliest sections are replaced by short extractive summaries
(their opening sentences), oldest first.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from agentwrite.errors import ContextFull
from agentwrite.length import estimate_tokens
from agentwrite.llm.base import Message

NOTHING_YET = "(Nothing yet: this is the first section.)"
_SENTENCE_END = re.compile(r"(?<=[.!?。！？])\s+")
_MESSAGE_OVERHEAD = 8
_CONTEXT_MARGIN = 64
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


def output_room(
    max_context: int | None, messages: list[Message], wanted: int, gauge: TokenGauge | None = None
) -> int:
    """``wanted`` output tokens, capped so that the prompt (estimated, corrected by ``gauge``,
    with a margin of 1% of the window but at least 64 tokens) plus the output fits
    ``max_context``; ContextFull when too little is left.

    >>> ask = [{"role": "user", "content": "x" * 300}]  # 120 estimated tokens
    >>> output_room(None, ask, 5000), output_room(1000, ask, 5000), output_room(1000, ask, 200)
    (5000, 808, 200)
    >>> output_room(1000, ask, 5000, TokenGauge(ratio=2.0)), output_room(8192, ask, 9000)
    (680, 7983)
    """
    if max_context is None:
        return wanted
    room = max_context - (gauge or TokenGauge()).prompt_tokens(messages)
    room -= max(_CONTEXT_MARGIN, max_context // 100)
    if room < _MIN_ROOM:
        raise ContextFull(f"the prompt leaves no room for output in a {max_context}-token context window")
    return min(wanted, room)


def summarise(text: str, max_words: int = 40) -> str:
    """The opening sentences of a text, up to about ``max_words`` words.

    >>> summarise("Tea began in Yunnan. It spread along caravan roads. Then the world.", 9)
    'Tea began in Yunnan. It spread along caravan roads.'
    """
    out: list[str] = []
    count = 0
    for sentence in _SENTENCE_END.split(text.strip()):
        words = len(sentence.split()) or 1
        if out and count + words > max_words:
            break
        out.append(sentence)
        count += words
    summary = " ".join(out)
    return summary if len(summary) <= 8 * max_words else summary[: 8 * max_words].rstrip() + "…"


def render_prior(sections: Sequence[tuple[str, str]], summarised: int = 0) -> str:
    """Sections as Markdown, the first ``summarised`` of them as summaries.

    >>> print(render_prior([("A", "One. Two."), ("B", "Three.")], summarised=1))
    ## A
    (summary) One. Two.
    <BLANKLINE>
    ## B
    Three.
    """
    if not sections:
        return NOTHING_YET
    parts = []
    for i, (title, text) in enumerate(sections):
        body = f"(summary) {summarise(text)}" if i < summarised else text.strip()
        parts.append(f"## {title}\n{body}")
    return "\n\n".join(parts)


def fit_prior_text(
    sections: Sequence[tuple[str, str]],
    max_tokens: int | None,
    max_chars: int | None = None,
    keep_verbatim: int = 2,
    count: Callable[[str], int] = estimate_tokens,
    least_summarised: int = 0,
) -> str:
    """The text so far, summarising the oldest sections until it fits both budgets.

    If even the summaries of all but the last ``keep_verbatim`` sections do not fit,
    everything is summarised, and as a last resort the oldest summaries are dropped.
    ``count`` measures a text in tokens (a :class:`TokenGauge`'s ``text_tokens`` corrects
    the plain estimate). ``least_summarised`` sections are summarised even when all would
    fit (a digest of the text so far).

    >>> secs = [("A", "Alpha one. " * 50), ("B", "Beta two. " * 50), ("C", "Gamma.")]
    >>> fit_prior_text(secs, max_tokens=None) == render_prior(secs)
    True
    >>> fit_prior_text(secs, max_tokens=200).startswith("## A\\n(summary)")
    True
    >>> fit_prior_text(secs, max_tokens=None, least_summarised=2).count("(summary)")
    2
    """

    def fits(text: str) -> bool:
        return (max_tokens is None or count(text) <= max_tokens) and (
            max_chars is None or len(text) <= max_chars
        )

    most_summarised = max(0, len(sections) - keep_verbatim)
    start = min(least_summarised, len(sections))
    for summarised in [*range(start, max(start, most_summarised) + 1), len(sections)]:
        text = render_prior(sections, summarised)
        if fits(text):
            return text
    for dropped in range(1, len(sections) + 1):
        text = "(earlier sections omitted)\n\n" + render_prior(sections[dropped:], len(sections) - dropped)
        if fits(text):
            return text
    return "(earlier sections omitted)"
