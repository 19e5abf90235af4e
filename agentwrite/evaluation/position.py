"""How a response's figures change along it: the position curve, first tenth to last.

``tenths`` cuts a text into ``PARTS`` parts of about equal word count at sentence ends (a
sentence belongs to the part its middle word falls in); ``position_curve`` gives four figures
per part: lines of talk about the writing per 1,000 words (``agentwrite.writing.talk``), the
on-topic share of the part's chunks (``agentwrite.writing.topic``), the share of its sentences
that occur more than once anywhere in the response (``text_stats.document_repeated_sentence_rate``
attributed to where each occurrence stands), and gibberish (``text_stats.gibberish_rate``).
``mean_curve`` averages the curves of a run, part by part. LongWriter's users ask where long
outputs start to drift or repeat; a curve that falls in its last tenths says where.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import Counter
from collections.abc import Sequence
from statistics import fmean

from agentwrite.length import count_words
from agentwrite.text_stats import counted_sentences, gibberish_rate, sentence_spans
from agentwrite.writing.talk import talk_spans
from agentwrite.writing.topic import TopicScorer, on_topic_share

PARTS = 10
"""Parts a response is cut into: tenths."""
CURVE_FIGURES = ("talk_per_1000_words", "on_topic", "repeated_sentences", "gibberish")
"""The figures of a position curve, in the order the report plots them."""

Curve = dict[str, list[float | None]]
"""One list of ``PARTS`` values per figure of ``CURVE_FIGURES``; None where a part has no text
(or, for repeated sentences, no sentence long enough to count)."""


def tenths(text: str, parts: int = PARTS) -> list[tuple[int, int] | None]:
    """``(start, end)`` offsets of each part of ``text``, cut at sentence ends by word
    position, or None for a part no sentence falls in (a text shorter than ``parts``
    sentences has such parts).

    >>> text = "One two. Three four. Five six. Seven eight."
    >>> [text[a:b] for a, b in tenths(text, 4)]
    ['One two.', 'Three four.', 'Five six.', 'Seven eight.']
    >>> tenths("One two three four.", 2), tenths("", 2)
    ([None, (0, 19)], [None, None])
    """
    spans = sentence_spans(text)
    words = [count_words(text[a:b]) for a, b in spans]
    total = sum(words)
    found: list[tuple[int, int] | None] = [None] * parts
    before = 0
    for (start, end), n in zip(spans, words, strict=True):
        if total:
            part = min(int(parts * (before + n / 2) / total), parts - 1)
            first = found[part]
            found[part] = (first[0] if first else start, end)
        before += n
    return found


def position_curve(text: str, brief: str, topic: TopicScorer, parts: int = PARTS) -> Curve:
    """The four figures of ``CURVE_FIGURES`` in each part of ``text`` (see the module's
    docstring); talk lines are found in the whole text and counted in the part each starts in.

    >>> brief = "Write a guide to keeping a sourdough starter alive"
    >>> on, off = "Feed the sourdough starter flour today. ", "Drones fly over the busy markets. "
    >>> from agentwrite.writing.topic import LexicalScorer
    >>> curve = position_curve("Here is the text:\\n" + on * 4 + off * 4, brief, LexicalScorer(), parts=2)
    >>> curve["on_topic"], curve["talk_per_1000_words"], curve["repeated_sentences"]  # 1 line in 28 words
    ([1.0, 0.0], [35.7143, 0.0], [1.0, 1.0])
    """
    bounds = tenths(text, parts)
    starts = [span[0] if span else -1 for span in bounds]
    talk_lines: list[set[int]] = [set() for _ in range(parts)]
    for talk in talk_spans(text):
        part = bisect_right(starts, talk.start) - 1
        if part >= 0:
            talk_lines[part].add(text.count("\n", 0, talk.start))
    counts = Counter(counted_sentences(text))
    curve: Curve = {name: [] for name in CURVE_FIGURES}
    for span, lines in zip(bounds, talk_lines, strict=True):
        piece = text[span[0] : span[1]] if span else ""
        words = count_words(piece)
        sentences = counted_sentences(piece)
        values = (
            1000 * len(lines) / words if words else None,
            on_topic_share(piece, brief, topic) if words else None,
            sum(1 for s in sentences if counts[s] > 1) / len(sentences) if sentences else None,
            gibberish_rate(piece) if words else None,
        )
        for name, value in zip(CURVE_FIGURES, values, strict=True):
            curve[name].append(None if value is None else round(value, 4))
    return curve


def mean_curve(curves: Sequence[Curve], parts: int = PARTS) -> Curve:
    """Part by part, the mean of each figure over the curves that have a value there.

    >>> mean_curve([{"gibberish": [0.5, None]}, {"gibberish": [0.25, None]}, {}], parts=2)
    {'gibberish': [0.375, None]}
    """
    names = [name for name in CURVE_FIGURES if any(name in curve for curve in curves)]
    result: Curve = {}
    for name in names:
        result[name] = []
        for part in range(parts):
            values = [v for curve in curves if (v := curve.get(name, [None] * parts)[part]) is not None]
            result[name].append(round(fmean(values), 4) if values else None)
    return result
