"""A section's text at its sentence ends: a continuation joined on where the text stopped,
a text trimmed to its budget at the first sentence end that reaches it."""

from __future__ import annotations

from agentwrite.length import count_words
from agentwrite.text_stats import ends_with_full_stop, full_stops


def join_continuation(text: str, more: str) -> str:
    """Append a continuation: a text cut mid-sentence (not at ``text_stats.FULL_STOP``) is
    joined with a space, else the continuation starts a new paragraph.

    >>> join_continuation("Tea began in", "Yunnan."), join_continuation("Tea.", "Trade.")
    ('Tea began in Yunnan.', 'Tea.\\n\\nTrade.')
    """
    text, more = text.rstrip(), more.strip()
    if not text:
        return more
    return f"{text}\n\n{more}" if ends_with_full_stop(text) else f"{text} {more}"


def trim_to_budget(text: str, budget: int) -> str:
    """Cut a text at the first full stop (``text_stats.full_stops``) that reaches ``budget``
    words, else at its last one (unchanged if it has none): a section cut by the token limit
    keeps to its plan instead of running on to the limit's headroom.

    >>> trim_to_budget("Tea is old. It grew in Yunnan. Then trade came. And", 4)
    'Tea is old. It grew in Yunnan.'
    >>> trim_to_budget("Tea is old. It grew in", 9), trim_to_budget("no end here", 2)
    ('Tea is old.', 'no end here')
    >>> trim_to_budget("It costs 3.5 yuan here. More", 2), trim_to_budget("茶很老。它来自云南。再", 3)
    ('It costs 3.5 yuan here.', '茶很老。')
    """
    last = None
    for last in full_stops(text):
        if count_words(text[:last]) >= budget:
            break
    return text if last is None else text[:last]


__all__ = ["join_continuation", "trim_to_budget"]
