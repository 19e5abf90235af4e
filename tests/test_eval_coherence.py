"""Coherence metrics on small texts whose answers are counted by hand."""

from __future__ import annotations

import numpy as np
import pytest

from agentwrite.evaluation.coherence import adjacent_similarity, brief_similarity
from agentwrite.evaluation.embeddings import chunk_text, embed_long, load_embedder
from agentwrite.evaluation.structure import plan_adherence, split_markdown_sections
from agentwrite.length import count_words
from agentwrite.text_stats import (
    cross_section_repeated_sentence_rate,
    distinct_n,
    repeated_ngram_rate,
    split_sentences,
    word_tokens,
)


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


def test_cross_section_repeated_sentence_rate() -> None:
    shared = "Rivers carry silt down to the delta."
    sections = [
        f"{shared} Short one. Farmers plant rice on the fertile banks.",
        f"{shared.upper()}   Trade grew along the water for centuries.",
        "Nothing here repeats from the other sections at all.",
    ]
    # long sentences: 2 + 2 + 1 = 5; the shared one appears in sections 0 and 1 -> 2 of 5
    assert cross_section_repeated_sentence_rate(sections) == pytest.approx(2 / 5)
    # a sentence repeated inside one section is not a cross-section echo
    assert (
        cross_section_repeated_sentence_rate([f"{shared} {shared}", "Something else entirely is said here."])
        == 0.0
    )
    assert cross_section_repeated_sentence_rate(["Too short.", "Too short."]) == 0.0
    assert cross_section_repeated_sentence_rate(["这是一个重复的句子。", "这是一个重复的句子。"]) == 1.0


def test_adjacent_and_brief_similarity_on_hand_vectors() -> None:
    sections = np.array([[1.0, 0.0, 0.0], [0.0, 2.0, 0.0], [0.0, 1.0, 1.0]])
    assert adjacent_similarity(sections) == [0.0, pytest.approx(0.7071)]
    assert brief_similarity(np.array([0.0, 1.0, 0.0]), sections) == [0.0, 1.0, pytest.approx(0.7071)]
    assert adjacent_similarity(sections[:1]) == []


def test_long_texts_are_embedded_by_chunks() -> None:
    def embed(texts: list[str]) -> np.ndarray:  # "tea" chunks point along x, the rest along y
        return np.array([[1.0, 0.0] if "tea" in t.lower() else [0.0, 3.0] for t in texts])

    text = "Tea grows on hills. Tea is picked in spring. Boats sail at dawn. Fish swim below."
    assert chunk_text(text, max_words=9) == [
        "Tea grows on hills. Tea is picked in spring.",
        "Boats sail at dawn. Fish swim below.",
    ]
    vectors = embed_long(embed, [text, "Boats sail."], max_words=9)
    assert vectors.round(4).tolist() == [[0.7071, 0.7071], [0.0, 1.0]]


def test_markdown_sections_follow_the_repeated_level() -> None:
    doc = "# Title\n\nLead paragraph here.\n\n## One\nAlpha.\n### Detail\nBeta.\n## Two\nGamma.\n"
    assert split_markdown_sections(doc) == [
        ("", "# Title\n\nLead paragraph here."),
        ("One", "Alpha.\n### Detail\nBeta."),
        ("Two", "Gamma."),
    ]
    assert split_markdown_sections("# Only title\n\nBody text.") == [("Only title", "Body text.")]
    assert split_markdown_sections("#hashtag is not a heading\nline") == [
        ("", "#hashtag is not a heading\nline")
    ]


def test_hash_lines_in_code_are_not_headings() -> None:
    doc = (
        "# Guide\n\n## Install\n```bash\n# install packages\npip install tea\n## not a heading\n```\n"
        "~~~\n# tilde fence\n~~~\n\n    # indented code\n\n## Use\nRun it.\n"
    )
    assert split_markdown_sections(doc) == [
        (
            "Install",
            "```bash\n# install packages\npip install tea\n## not a heading\n```\n"
            "~~~\n# tilde fence\n~~~\n\n    # indented code",
        ),
        ("Use", "Run it."),
    ]
    # plan adherence sees the two planned headings and nothing from the code
    headings = [title for title, _ in split_markdown_sections(doc)]
    assert plan_adherence([10, 10], [9, 2], ["Install", "Use"], headings).heading_match == 1.0


def test_setext_and_closed_atx_headings_count() -> None:
    doc = "Tea\n===\n\nLead.\n\nOrigins\n-------\nYunnan.\n\n## Trade ##\nCaravans.\n"
    assert split_markdown_sections(doc) == [
        ("", "Tea\n===\n\nLead."),
        ("Origins", "Yunnan."),
        ("Trade", "Caravans."),
    ]
    # a title line with no other words before the sections is not a preamble
    assert split_markdown_sections("Tea\n===\n\nA\n-\nx\n\nB\n-\ny") == [("A", "x"), ("B", "y")]


def test_headings_in_blockquotes_and_lists_belong_to_them() -> None:
    # CommonMark makes these headings, but of the quote and the list item: no section starts there
    doc = "## One\n> ## Quoted\n> words\n\n- ## In a list\n  item\n\n## Two\nB.\n"
    assert split_markdown_sections(doc) == [
        ("One", "> ## Quoted\n> words\n\n- ## In a list\n  item"),
        ("Two", "B."),
    ]
    assert split_markdown_sections("> # Quoted\n\nText.") == [("", "> # Quoted\n\nText.")]


def test_windows_line_endings() -> None:
    assert split_markdown_sections("Lead.\r\n## One\r\nA.\r\n## Two\r\nB.") == [
        ("", "Lead."),
        ("One", "A."),
        ("Two", "B."),
    ]


def test_plan_adherence_by_hand() -> None:
    result = plan_adherence(
        budgets=[500, 500, 1000],
        words=[450, 800, 1000],  # errors 0.1, 0.6, 0.0
        titles=["Origins", "The Tea Horse Road", "Today"],
        headings=["origins", "The tea-horse road!", "Modern times"],
    )
    assert result.budget_error == pytest.approx(0.7 / 3)
    assert result.on_budget == pytest.approx(2 / 3)
    assert result.heading_match == pytest.approx(2 / 3)
    with pytest.raises(ValueError):
        plan_adherence([100], [100, 200], ["a"], [])


@pytest.mark.slow
def test_the_bundled_embedder_ranks_related_text_closer() -> None:
    embed = load_embedder()
    vectors = embed_long(
        embed, ["Green tea is grown in Yunnan.", "Yunnan farms grow tea.", "The stock market fell."]
    )
    related, unrelated = float(vectors[0] @ vectors[1]), float(vectors[0] @ vectors[2])
    assert vectors.shape == (3, 384)
    assert related > 0.6 > unrelated
