"""Coherence metrics on small texts whose answers are counted by hand."""

from __future__ import annotations

import pytest

from agentwrite.evaluation.coherence import (
    distinct_n,
    repeated_ngram_rate,
    repeated_sentence_rate,
    split_sentences,
    word_tokens,
)
from agentwrite.length import count_words


@pytest.mark.parametrize(
    "text", ["", "Hello, World!", "我爱 Python 和 tea。", "GPT4 中文abc x", "don't stop me now"]
)
def test_tokens_agree_with_the_word_count(text: str) -> None:
    assert len(word_tokens(text)) == count_words(text)


def test_distinct_n_counts_unique_grams() -> None:
    text = "the cat saw the cat"  # unigrams: 5, unique 3; bigrams: 4, unique 3
    assert distinct_n(text, 1) == pytest.approx(3 / 5)
    assert distinct_n(text, 2) == pytest.approx(3 / 4)
    assert distinct_n("猫猫猫", 1) == pytest.approx(1 / 3)
    assert distinct_n("The THE the", 1) == pytest.approx(1 / 3)  # case-folded


def test_repeated_ngram_rate_counts_every_occurrence_of_a_repeat() -> None:
    # bigrams: (a,b) (b,c) (c,a) (a,b) (b,d): "a b" occurs twice -> 2 of 5 occurrences
    assert repeated_ngram_rate("a b c a b d", n=2) == pytest.approx(2 / 5)
    assert repeated_ngram_rate("go go go go go", n=4) == 1.0  # two 4-grams, the same
    assert repeated_ngram_rate("one two three", n=4) == 0.0  # too short for a 4-gram


def test_split_sentences_handles_both_scripts() -> None:
    text = "Dr Li said \u201cgo.\u201d Then left!  第一句。第二句！\n\n## Next\nlast line"
    assert split_sentences(text) == [
        "Dr Li said \u201cgo.\u201d",
        "Then left!",
        "第一句。",
        "第二句！",
        "## Next",
        "last line",
    ]


def test_repeated_sentence_rate() -> None:
    shared = "Rivers carry silt down to the delta."
    sections = [
        f"{shared} Short one. Farmers plant rice on the fertile banks.",
        f"{shared.upper()}   Trade grew along the water for centuries.",
        "Nothing here repeats from the other sections at all.",
    ]
    # long sentences: 2 + 2 + 1 = 5; the shared one appears in sections 0 and 1 -> 2 of 5
    assert repeated_sentence_rate(sections) == pytest.approx(2 / 5)
    # a sentence repeated inside one section is not a cross-section echo
    assert repeated_sentence_rate([f"{shared} {shared}", "Something else entirely is said here."]) == 0.0
    assert repeated_sentence_rate(["Too short.", "Too short."]) == 0.0
    assert repeated_sentence_rate(["这是一个重复的句子。", "这是一个重复的句子。"]) == 1.0
