"""Talk about the writing instead of the writing: preambles, placeholders, labels, echoed
directions, the writer describing its own text, offers, apologies and closings.

``talk_kind`` judges one finished sentence or line, in English or Chinese, with patterns
(``talk_asker``: words to the asker; ``talk_text``: talk about the text itself) compiled
once at import and screened by a few substring tests, so that it can run on every
sentence of every section as the section streams (its time per 1,000 words is in
eval/README.md, "Brief checks"). ``talk_spans`` walks a text in the project's sentence
vocabulary (``agentwrite.text_stats.sentence_spans``: sentence ends and line breaks) and
``talk_per_1000_words`` counts the lines that hold talk. What counts as talk is the guide of
the labelled set, eval/labels/README.md; the patterns were written against its ``dev`` half
and against documents no label was cut from (eval/results/brief_cpu, ``make demo``), by kind:
a text describing itself, edit notes, format directions, words to the asker.

The patterns find about half of the talk in text they were not written against; a small
learned model (``talk_model``) catches much of the rest in the bundled model's text, but
also calls some clean writing talk (eval/README.md, "A learned talk model"), so it is asked
only when told: with ``learned=True``, ``sentence_talk``, ``talk_spans`` and
``talk_per_1000_words`` ask the model about a sentence no pattern caught (kind ``learned``).
``talk_kind`` is patterns only: it also judges plan titles and headings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from agentwrite.length import count_words
from agentwrite.text_stats import sentence_spans
from agentwrite.writing.talk_asker import ASKER_PATTERNS
from agentwrite.writing.talk_model import talk_model
from agentwrite.writing.talk_text import TEXT_PATTERNS

KINDS = ("placeholder", "apology", "offer", "preamble", "task", "meta", "label", "learned")
"""The kinds of talk, in the order ``sentence_talk`` tries them (``learned``: the model)."""

_PREFIX = re.compile(
    r"^[\s#>*_|`\-•·\"“]*(?:(?:\d+(?:\.\d+)*|[A-Za-z])[.):、]\s*)*[\s#>*_|`\-•·\"“]*"
    r"(?:(?:step|section|part|stage|day)\s+\d+\s*[:.]\s+(?=\S))?",
    re.IGNORECASE,
)
"""Markdown, quote marks, list numbering and a numbered step or part label before a line's
first word ("### 2. Step 3: Write..." is judged from "Write")."""
_NUMBERING = re.compile(
    r"^[\s#>*_|`\-•·\[(]*(?:\d+[.:)]\s*)*(?:(?:[\w-]+\s+){0,3}?(?:step|section|part|chapter|day|verse|plan|title|item|page)\s*[:#]?\s*)?"
    r"(?:(?:\d+|[ivxlc]+)(?:[.:)]\s*|\s+|$))+$",
    re.I,
)
"""A sentence that is only a heading's or list item's numbers ("### 3.", "Step 7.", "[1. 2.",
"Business plan: 13."): when more follows on its line, it is judged with what follows."""
_LETTER = re.compile(r"[^\W\d_]")

_PATTERNS: tuple[tuple[str, re.Pattern[str], tuple[str, ...]], ...] = (*ASKER_PATTERNS, *TEXT_PATTERNS)
"""Each kind's patterns (a kind may have several), and words one of which a sentence must
hold (lowercased) for the pattern to be tried at all: a cheap screen for the slowest patterns
(none: always tried). On the 23,938 distinct sentences of the committed runs and the demo's
documents the screens change no answer."""


@dataclass(frozen=True)
class Talk:
    """A sentence or line of talk in a text: ``text[start:end]``, and its kind (``KINDS``)."""

    start: int
    end: int
    kind: str


def talk_kind(sentence: str) -> str | None:
    """The kind of talk ``sentence`` (one finished sentence or line) is, or None when it is
    the writing itself. Markdown and list numbering before its first word are ignored; a
    fragment with no letters (``"### 3."``) is never talk.

    >>> [talk_kind(s) for s in ("Here is the continuation of the article:", "[Your Name]",
    ...  "SECTION 8", "I hope this helps!", "The river runs north to the sea.")]
    ['preamble', 'placeholder', 'label', 'offer', None]
    >>> talk_kind("1. The Job Description for the Sales Manager Role (about 167 words)")
    'label'
    >>> talk_kind("以下是第三部分的内容："), talk_kind("（约300字）"), talk_kind("外婆的厨房很小。")
    ('preamble', 'label', None)
    """
    text = _PREFIX.sub("", sentence.strip(), count=1).strip(" *_`")
    if not _LETTER.search(text):
        return None
    lowered = text.lower()
    for kind, pattern, hints in _PATTERNS:
        if (not hints or any(hint in lowered for hint in hints)) and pattern.search(text):
            return kind
    return None


def sentence_talk(sentence: str, *, learned: bool = False) -> str | None:
    """``talk_kind``, and with ``learned`` the talk model for a sentence with letters that no
    pattern caught (``"learned"``).

    >>> sentence_talk("Sure! Here's section 3:"), sentence_talk("The river runs north.")
    ('offer', None)
    >>> line = "To help you thrive, please send us more documents like this one."
    >>> sentence_talk(line), sentence_talk(line, learned=True)
    (None, 'learned')
    """
    kind = talk_kind(sentence)
    if kind is None and learned and _LETTER.search(sentence) and talk_model().is_talk(sentence.strip()):
        return "learned"
    return kind


def talk_spans(text: str, *, learned: bool = False) -> list[Talk]:
    """Every sentence (or line, ``sentence_spans``' units) of ``text`` that is talk
    (``sentence_talk``).

    >>> text = "Sure! Here's section 3:\\nTea is old. [Insert a fact here]\\nI hope this helps!"
    >>> for talk in talk_spans(text):
    ...     print(talk.kind, text[talk.start : talk.end])
    offer Sure!
    preamble Here's section 3:
    placeholder [Insert a fact here]
    offer I hope this helps!
    """
    spans: list[Talk] = []
    pending: int | None = None  # the start of a numbering fragment waiting for the rest of its line
    for start, end in sentence_spans(text):
        if pending is not None and "\n" not in text[pending:start]:
            start = pending
        pending = None
        sentence = text[start:end]
        if _NUMBERING.match(sentence) and end < len(text) and text[end] not in "\n\r":
            pending = start
            continue
        kind = sentence_talk(sentence, learned=learned)
        if kind is not None:
            spans.append(Talk(start, end, kind))
    if pending is not None and (kind := sentence_talk(text[pending:], learned=learned)) is not None:
        spans.append(Talk(pending, len(text.rstrip()), kind))
    return spans


def talk_per_1000_words(text: str, *, learned: bool = False) -> float:
    """Lines that hold talk (``talk_spans``) per 1,000 counted words of ``text`` (0.0
    without words).

    >>> talk_per_1000_words("Here is the text:\\n" + "Tea is a drink. " * 100)  # 1 line in 404 words
    2.4752475247524752
    """
    return lines_per_1000_words(text, talk_spans(text, learned=learned))


def lines_per_1000_words(text: str, spans: list[Talk]) -> float:
    """The lines of ``text`` that hold one of ``spans`` per 1,000 counted words (0.0 without
    words): ``talk_per_1000_words`` for spans already found, such as the patterns' share of a
    ``learned=True`` walk (every span whose kind is not ``learned``)."""
    words = count_words(text)
    if not words:
        return 0.0
    lines = {text.count("\n", 0, talk.start) for talk in spans}
    return 1000 * len(lines) / words
