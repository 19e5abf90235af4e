"""Text-only figures (sentence spans, repetition, gibberish) on small texts counted by hand."""

from __future__ import annotations

import random
from itertools import pairwise

import pytest

from agentwrite.text_stats import (
    SENTENCE_END,
    cross_section_repeated_sentence_rate,
    document_repeated_sentence_rate,
    full_stops,
    gibberish_rate,
    is_word,
    normalise_sentence,
    sentence_spans,
    split_sentences,
)


def test_sentence_spans_give_the_offsets_of_split_sentences() -> None:
    text = '  He said "go." Then left!\r\n\n- item one\n茶很古老。“真的吗？”是的……  end'
    spans = sentence_spans(text)
    assert [text[a:b] for a, b in spans] == [
        'He said "go."',
        "Then left!",
        "- item one",
        "茶很古老。",
        "“真的吗？”",
        "是的……",
        "end",
    ]
    assert spans[0] == (2, 15)
    assert sentence_spans("") == [] and sentence_spans(" \n\t ") == []
    # a dot inside a number or a name does not end a sentence; one without a following space neither
    assert split_sentences("Version 3.5 of e.g.this works. Yes") == ["Version 3.5 of e.g.this works.", "Yes"]


def test_sentence_spans_agree_with_split_sentences_on_random_text() -> None:
    alphabet = list("ab .!?\"')”’。！？；…」）\n\r\t\x0b\x85\u2028 茶#")
    rng = random.Random(7)
    for _ in range(2000):
        text = "".join(rng.choices(alphabet, k=rng.randint(0, 30)))
        spans = sentence_spans(text)
        assert [text[a:b] for a, b in spans] == split_sentences(text)
        assert all(text[a:b] == text[a:b].strip() and a < b for a, b in spans)
        assert all(b1 <= a2 for (_, b1), (a2, _) in pairwise(spans))


@pytest.mark.parametrize(
    ("text", "sentence_ends", "stops"),
    [
        (
            "Tea is old. Is it? Yes",
            ["Tea is old.", "Tea is old. Is it?"],
            ["Tea is old.", "Tea is old. Is it?"],
        ),
        (
            "茶很老；它来自云南。好",
            ["茶很老；", "茶很老；它来自云南。"],
            ["茶很老；它来自云南。"],
        ),  # a clause mark
        (
            "Wait…what? Wait… then",
            ["Wait…", "Wait…what?", "Wait…what? Wait…"],
            ["Wait…what?", "Wait…what? Wait…"],
        ),
        ('他说："好。"然后', ['他说："好。'], ['他说："好。"']),  # a straight quote after 。 stays with it
        ("真的吗？！是的", ["真的吗？！"], ["真的吗？！"]),  # a run of marks ends once
    ],
)
def test_full_stops_are_the_sentence_ends_a_text_may_stop_at(
    text: str, sentence_ends: list[str], stops: list[str]
) -> None:
    assert [text[: m.end()] for m in SENTENCE_END.finditer(text)] == sentence_ends
    assert [text[:end] for end in full_stops(text)] == stops


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("The river  runs north.", "the river runs north"),
        ("**The river** runs _north_!", "The river runs north"),
        ("1. The river runs north.", "- The river runs north"),
        ("> The river, it runs north…", "the river it runs north"),
        ("茶，很古老。", "茶很古老"),
    ],
)
def test_normalised_sentences_compare_equal(a: str, b: str) -> None:
    assert normalise_sentence(a) == normalise_sentence(b)


def test_normalised_sentences_keep_words_apart() -> None:
    assert normalise_sentence("The river runs north.") != normalise_sentence("The river runs south.")
    assert normalise_sentence("Tea in Yunnan 2024") == "tea in yunnan 2024"


def test_document_repeated_sentence_rate() -> None:
    assert document_repeated_sentence_rate("A b c d e. F g h i j. A b c d e.") == pytest.approx(2 / 3)
    loop = "I am proud of the people here. " * 25
    assert document_repeated_sentence_rate("Gardens need light and water. " + loop) == pytest.approx(25 / 26)
    # within one section counts, unlike the cross-section rate
    text = "Rivers carry silt to the delta. Rivers carry silt to the delta! Boats sail at dawn each day."
    assert document_repeated_sentence_rate(text) == pytest.approx(2 / 3)
    assert cross_section_repeated_sentence_rate([text]) == 0.0
    # short sentences are not counted; min_words lowers the bar
    assert document_repeated_sentence_rate("Yes it is. Yes it is. A longer sentence stands here.") == 0.0
    assert document_repeated_sentence_rate("Yes it is. Yes it is.", min_words=3) == 1.0
    assert document_repeated_sentence_rate("这是一个重复的句子。这是一个重复的句子。另一句话。") == 1.0


def test_cross_section_rate_uses_the_new_normalisation() -> None:
    one = "The caravans carried tea across the mountains."
    two = "## **The caravans carried tea across the mountains**\nThen they rested in the valley."
    assert cross_section_repeated_sentence_rate([one, two]) == pytest.approx(2 / 3)


def test_words_and_non_words() -> None:
    assert all(is_word(w) for w in ("the", "balcony", "tomatoes", "yunnan", "dunno", "a", "i", "s"))
    assert not any(is_word(w) for w in ("yahda", "alrightdumminmjerry", "biggerandtheir", "lovedones"))
    assert all(is_word(c, "zh") for c in "阳台菜园需要阳光")
    assert not is_word("龘", "zh")
    with pytest.raises(ValueError, match="no word list"):
        is_word("tea", "fr")


def test_gibberish_rate_by_hand() -> None:
    assert gibberish_rate("") == 0.0 and gibberish_rate("123 !!! —") == 0.0
    prose = (
        "A vegetable garden on a city balcony needs six hours of sun, deep pots with holes "
        "for drainage, and a steady routine of watering in the cool of the morning."
    )
    assert gibberish_rate(prose) == 0.0
    # yahda and alrightdumminmjerry are not words; yeah, dunno and mr are: 2 of 5
    assert gibberish_rate("yahda yeah dunno mr alrightdumminmjerry") == pytest.approx(2 / 5)
    # words run together, as the bundled model writes them when it degrades: 3 of 7
    assert gibberish_rate("Travel is biggerandtheir lovedones and their issomething.") == pytest.approx(3 / 7)
    assert gibberish_rate("阳台上的小菜园需要充足的阳光和排水良好的土壤。") == 0.0
    # mixed: 8 CJK characters (one rare) and 2 Latin words (one invented) -> 2 of 10
    assert gibberish_rate("我们的龘茶园很好 scorpice tea") == pytest.approx(2 / 10)
