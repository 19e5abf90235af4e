"""The text so far, as a section prompt shows it: recent sections verbatim and, when the
whole text would not fit the room the window leaves, the earliest sections replaced by short
extractive summaries (their opening sentences), oldest first.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from agentwrite.length import estimate_tokens
from agentwrite.text_stats import full_stops

NOTHING_YET = "(Nothing yet: this is the first section.)"


def summarise(text: str, max_words: int = 40) -> str:
    """The opening sentences of a text (cut at ``text_stats.full_stops``), up to about
    ``max_words`` words, with the whitespace between two sentences made one space.

    >>> summarise("Tea began in Yunnan.\\n\\nIt spread along caravan roads. Then the world.", 9)
    'Tea began in Yunnan. It spread along caravan roads.'
    >>> summarise('He said "go." Then he left. 茶很老。它来自云南。', 7)
    'He said "go." Then he left. 茶很老。'
    """
    text = text.strip()
    summary, count, start = "", 0, 0
    for end in [*full_stops(text), len(text)]:
        sentence, start = text[start:end], end
        if not sentence:
            continue
        words = len(sentence.split()) or 1
        if summary and count + words > max_words:
            break
        summary += (" " + sentence.lstrip()) if sentence[0].isspace() else sentence
        count += words
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
