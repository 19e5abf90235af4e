"""Whether a response keeps to its brief: talk about the writing, on-topic share, language.

Per response (``response_figures``): the lines that hold talk about the writing, in all and per
1,000 words (``agentwrite.writing.talk``: by its patterns, and per 1,000 words also with its
learned model, ``talk_per_1000_words_learned``, which finds more of the bundled model's talk and
calls some clean writing talk); the on-topic share, the share of its 150-word
chunks whose similarity to the brief reaches the scorer's threshold
(``agentwrite.writing.topic``; lexical by default, MiniLM when asked, the scorer named in the
run's scores); the brief's language and the response's, its share of words in the brief's
script, and whether it is mostly in the brief's language (``agentwrite.writing.language``);
and its position curve by tenths (``agentwrite.evaluation.position``). Per run
(``run_figures``): the means, the talk of all responses pooled, the lowest on-topic share and
the language-match rate.
"""

from __future__ import annotations

from collections.abc import Sequence
from statistics import fmean
from typing import Any

from agentwrite.evaluation.position import position_curve
from agentwrite.length import count_words
from agentwrite.writing.language import brief_language, language_of, language_share, matches
from agentwrite.writing.talk import lines_per_1000_words, talk_spans
from agentwrite.writing.topic import TopicScorer, on_topic_share


def response_figures(brief: str, response: str, topic: TopicScorer) -> dict[str, Any]:
    """One response's figures of keeping to ``brief`` (see the module's docstring).

    >>> from agentwrite.writing.topic import LexicalScorer
    >>> brief = "Write a guide to keeping a sourdough starter alive"
    >>> text = "Here is the text:\\n" + "Feed the sourdough starter flour every day. " * 30
    >>> figures = response_figures(brief, text, LexicalScorer())
    >>> figures["talk_lines"], round(figures["talk_per_1000_words"], 2), figures["on_topic"]
    (1, 4.67, 1.0)
    >>> figures["brief_language"], figures["language"], figures["language_match"]
    ('en', 'en', True)
    >>> response_figures("写一篇关于云南美食的文章", text, LexicalScorer())["language_match"]
    False
    """
    asked = brief_language(brief)
    words = count_words(response)
    spans = talk_spans(response, learned=True)  # one walk: the patterns' spans are the others
    talk = lines_per_1000_words(response, [t for t in spans if t.kind != "learned"])
    return {
        "talk_lines": round(talk * words / 1000),
        "talk_per_1000_words": round(talk, 4),
        "talk_per_1000_words_learned": round(lines_per_1000_words(response, spans), 4),
        "on_topic": round(on_topic_share(response, brief, topic), 4),
        "brief_language": asked.code,
        "language": language_of(response).code,
        "language_share": round(language_share(response, asked), 4),
        "language_match": matches(response, asked),
        "by_tenth": position_curve(response, brief, topic),
    }


def run_figures(figures: Sequence[dict[str, Any]], words: Sequence[int]) -> dict[str, float]:
    """A run's figures from its responses' ``response_figures`` and their word counts: means
    of talk per 1,000 words (by the patterns, and with the learned model where the figures have
    it), on-topic share and language share; talk pooled (all lines per
    1,000 words of all responses); the lowest on-topic share; the share of responses mostly
    in their brief's language. Empty for no responses.

    >>> a = {"talk_lines": 1, "talk_per_1000_words": 2.0, "on_topic": 0.5, "language_share": 1.0,
    ...      "language_match": True}
    >>> b = {"talk_lines": 0, "talk_per_1000_words": 0.0, "on_topic": 1.0, "language_share": 0.2,
    ...      "language_match": False}
    >>> for name, value in run_figures([a, b], [500, 1500]).items():
    ...     print(name, value)
    talk_per_1000_words 1.0
    talk_per_1000_words_pooled 0.5
    on_topic 0.75
    on_topic_lowest 0.5
    language_share 0.6
    language_match_rate 0.5
    """
    if not figures:
        return {}
    total = sum(words)
    learned = {}
    if all("talk_per_1000_words_learned" in f for f in figures):
        mean = fmean(f["talk_per_1000_words_learned"] for f in figures)
        learned["talk_per_1000_words_learned"] = round(mean, 4)
    return {
        "talk_per_1000_words": round(fmean(f["talk_per_1000_words"] for f in figures), 4),
        **learned,
        "talk_per_1000_words_pooled": round(1000 * sum(f["talk_lines"] for f in figures) / total, 4)
        if total
        else 0.0,
        "on_topic": round(fmean(f["on_topic"] for f in figures), 4),
        "on_topic_lowest": min(f["on_topic"] for f in figures),
        "language_share": round(fmean(f["language_share"] for f in figures), 4),
        "language_match_rate": round(fmean(1.0 if f["language_match"] else 0.0 for f in figures), 4),
    }
