"""On-topic scoring on hand-made texts: a section that keeps to its point, one that drifts, in
English and Chinese; the lexical scorer needs no model."""

from __future__ import annotations

import subprocess
import sys

import pytest

from agentwrite.writing.topic import (
    EmbeddingScorer,
    LexicalScorer,
    on_topic_share,
    scorer,
    section_on_topic,
)

BRIEF = "Write a 10000-word essay on phased antenna arrays: how they steer a beam without moving."
POINT = "How phase shifters steer the beam of an array"
ON = (
    "A phased array steers its beam by delaying the signal to each antenna element. The phase "
    "shifters change the delay, so the wavefront leaves the array at an angle and the beam moves "
    "without any motor. Radar arrays sweep the sky this way many times a second."
)
DRIFT = (
    "Small businesses need a clear plan for their cash flow. A bakery should know its costs, its "
    "prices and its customers before it signs a lease, and a drone delivery start-up must budget "
    "for insurance and marketing in its first year."
)


def test_a_section_that_keeps_to_its_point_scores_high_and_one_that_drifts_low() -> None:
    lexical = LexicalScorer()
    assert section_on_topic(ON, BRIEF, POINT, lexical) == 1.0
    assert section_on_topic(DRIFT, BRIEF, POINT, lexical) < 0.3
    half = section_on_topic(ON + "\n\n" + DRIFT, BRIEF, POINT, lexical)
    assert 0.3 < half < 1.0
    assert section_on_topic("", BRIEF, POINT, lexical) == 0.0


def test_a_chinese_section_is_scored_by_characters_and_bigrams() -> None:
    brief = "写一篇8000字的旅行指南，介绍云南十日游的路线、交通、美食和注意事项。"
    on = "第一天从昆明出发，坐高铁到大理。大理的美食有乳扇和饵块，路线沿着洱海，注意防晒。"
    drift = "小型企业需要清楚的现金流计划，面包店在签租约之前要知道成本和价格。"
    lexical = LexicalScorer()
    assert section_on_topic(on, brief, "云南十日游的路线", lexical) == 1.0
    assert section_on_topic(drift, brief, "云南十日游的路线", lexical) < 0.3


def test_on_topic_share_counts_the_chunks_close_to_the_brief() -> None:
    lexical = LexicalScorer()
    text = " ".join([ON] * 3 + [DRIFT] * 3)  # about 250 words: two chunks of at most 150
    assert on_topic_share(text, BRIEF, lexical) == pytest.approx(0.5)
    assert on_topic_share(ON, BRIEF, lexical) == 1.0 and on_topic_share(DRIFT, BRIEF, lexical) == 0.0
    assert on_topic_share("", BRIEF, lexical) == 1.0


def test_talk_that_only_repeats_the_brief_s_request_is_not_on_topic() -> None:
    lexical = LexicalScorer()
    (similarity,) = lexical.similarities(["Write about 400 words. Write the next section."], BRIEF)
    assert similarity < lexical.threshold


def test_scorers_by_name() -> None:
    assert isinstance(scorer(), LexicalScorer) and isinstance(scorer("minilm"), EmbeddingScorer)
    with pytest.raises(ValueError, match="no topic scorer named 'bert'"):
        scorer("bert")


def test_the_lexical_scorer_needs_no_model_and_no_numpy() -> None:
    code = (
        "import sys\n"
        "from agentwrite.writing.topic import LexicalScorer\n"
        "print(LexicalScorer().similarities(['Vaccines teach the immune system.'], 'vaccines'))\n"
        "print(sorted(m for m in ('numpy', 'torch', 'sentence_transformers') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    first, second = out.splitlines()
    assert float(first.strip("[]")) > 0.3
    assert second == "[]"
