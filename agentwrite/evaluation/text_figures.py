"""The coherence figures of one response: distinct n-grams, repetition and gibberish rates,
and, with an embedder, how each section keeps to the brief and to the section before it."""

from __future__ import annotations

from collections.abc import Sequence
from statistics import fmean
from typing import Any

from agentwrite.evaluation.coherence import adjacent_similarity, brief_similarity
from agentwrite.evaluation.embeddings import Embedder, embed_long
from agentwrite.length import count_words
from agentwrite.text_stats import (
    cross_section_repeated_sentence_rate,
    distinct_n,
    document_repeated_sentence_rate,
    gibberish_rate,
    repeated_ngram_rate,
)


def text_figures(
    brief: str, sections: Sequence[str], embed: Embedder | None, response: str | None = None
) -> dict[str, Any]:
    """Coherence figures of one response given as its sections' texts.

    ``response`` is the whole text as delivered (headings included; the sections joined
    when not given): the document-level repeated-sentence rate and the gibberish rate are
    taken on it, so a direct answer, one section, gets them too. ``sections`` in the result
    holds per-section records (position, words, distinct-2, repeated 4-gram rate and, with
    ``embed``, similarity to the brief and to the previous section).

    >>> figures = text_figures("Tea.", ["Tea grows on the hills. Tea grows on the hills."], None)
    >>> figures["document_repeated_sentence_rate"], figures["cross_section_repeated_sentence_rate"]
    (1.0, 0.0)
    >>> text_figures("Tea.", ["Tea grows on the hills of scorpice."], None)["gibberish_rate"]
    0.1429
    """
    whole = "\n\n".join(sections)
    delivered = whole if response is None else response
    per_section: list[dict[str, Any]] = [
        {
            "position": i,
            "words": count_words(text),
            "distinct_2": round(distinct_n(text, 2), 4),
            "repeated_4gram_rate": round(repeated_ngram_rate(text, 4), 4),
        }
        for i, text in enumerate(sections)
    ]
    figures: dict[str, Any] = {
        "distinct_1": round(distinct_n(whole, 1), 4),
        "distinct_2": round(distinct_n(whole, 2), 4),
        "repeated_4gram_rate": round(repeated_ngram_rate(whole, 4), 4),
        "document_repeated_sentence_rate": round(document_repeated_sentence_rate(delivered), 4),
        "cross_section_repeated_sentence_rate": round(cross_section_repeated_sentence_rate(sections), 4),
        "gibberish_rate": round(gibberish_rate(delivered), 4),
        "section_count": len(sections),
    }
    if embed is not None and whole.strip():
        vectors = embed_long(embed, [brief, *sections])
        to_brief = brief_similarity(vectors[0], vectors[1:])
        adjacent = adjacent_similarity(vectors[1:])
        for i, record in enumerate(per_section):
            record["brief_similarity"] = to_brief[i]
            record["adjacent_similarity"] = adjacent[i - 1] if i else None
        figures["brief_similarity"] = round(fmean(to_brief), 4)
        figures["drift"] = round(1 - fmean(to_brief), 4)
        figures["adjacent_similarity"] = round(fmean(adjacent), 4) if adjacent else None
    figures["sections"] = per_section
    return figures
