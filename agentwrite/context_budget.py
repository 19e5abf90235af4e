"""Fit the text written so far into a token budget for the next section's prompt.

Recent sections stay verbatim; when the whole text would not fit, the earliest sections
are replaced by short extractive summaries (their opening sentences), oldest first.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from agentwrite.errors import ModelError
from agentwrite.length import estimate_tokens
from agentwrite.llm.base import Message

NOTHING_YET = "(Nothing yet: this is the first section.)"
_SENTENCE_END = re.compile(r"(?<=[.!?。！？])\s+")
_MESSAGE_OVERHEAD = 8
_CONTEXT_MARGIN = 64
_MIN_ROOM = 32


def output_room(max_context: int | None, messages: list[Message], wanted: int) -> int:
    """``wanted`` output tokens, capped so that the prompt (estimated, with a margin for
    the chat template) plus the output fits ``max_context``; ModelError when too little is left.

    >>> ask = [{"role": "user", "content": "x" * 300}]  # 120 estimated tokens
    >>> output_room(None, ask, 5000), output_room(1000, ask, 5000), output_room(1000, ask, 200)
    (5000, 808, 200)
    """
    if max_context is None:
        return wanted
    room = max_context - sum(estimate_tokens(m["content"]) + _MESSAGE_OVERHEAD for m in messages)
    room -= _CONTEXT_MARGIN
    if room < _MIN_ROOM:
        raise ModelError(f"the prompt leaves no room for output in a {max_context}-token context window")
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
) -> str:
    """The text so far, summarising the oldest sections until it fits both budgets.

    If even the summaries of all but the last ``keep_verbatim`` sections do not fit,
    everything is summarised, and as a last resort the oldest summaries are dropped.

    >>> secs = [("A", "Alpha one. " * 50), ("B", "Beta two. " * 50), ("C", "Gamma.")]
    >>> fit_prior_text(secs, max_tokens=None) == render_prior(secs)
    True
    >>> fit_prior_text(secs, max_tokens=200).startswith("## A\\n(summary)")
    True
    """

    def fits(text: str) -> bool:
        return (max_tokens is None or estimate_tokens(text) <= max_tokens) and (
            max_chars is None or len(text) <= max_chars
        )

    most_summarised = max(0, len(sections) - keep_verbatim)
    for summarised in [*range(most_summarised + 1), len(sections)]:
        text = render_prior(sections, summarised)
        if fits(text):
            return text
    for dropped in range(1, len(sections) + 1):
        text = "(earlier sections omitted)\n\n" + render_prior(sections[dropped:], len(sections) - dropped)
        if fits(text):
            return text
    return "(earlier sections omitted)"
