"""The figures of keeping to the brief on hand-made responses: talk at the start, in the middle
and at the end, in English and Chinese; a response whose second half drifts; the wrong
language; the position curve by tenths; and ``eval score`` and ``eval report`` with them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agentwrite.evaluation.brief_figures import response_figures, run_figures
from agentwrite.evaluation.position import CURVE_FIGURES, mean_curve, position_curve, tenths
from agentwrite.evaluation.report import write_report
from agentwrite.evaluation.score import ascore_run
from agentwrite.evaluation.score_files import read_scores
from agentwrite.length import count_words
from agentwrite.writing.topic import LexicalScorer

LEXICAL = LexicalScorer()
BRIEF = "Write a 1000-word guide to keeping a sourdough starter alive and healthy."
STARTER = (
    "Feed the sourdough starter every morning with equal weights of flour and water. "
    "A healthy starter doubles in its jar within a few hours and smells pleasantly sour. "
    "Keep the starter jar loosely covered, so that the yeast can breathe and the flour does not dry out. "
    "Discard half of the starter before each feeding, or the jar overflows and the starter turns weak. "
)
"""Four sentences on the brief, 64 words."""
DRONES = (
    "Delivery drones fly over the busy city markets at night with parcels for the shops. "
    "Their operators plan each route around tall towers, parks and airports with care. "
    "Batteries are the main cost of a drone fleet, and the pilots replace them every spring. "
    "Insurance for a fleet of drones rises each year as the cities grow more crowded. "
)
"""Four sentences off it, 62 words."""
ZH_BRIEF = "写一篇1000字的文章，介绍云南的美食，包括过桥米线和汽锅鸡。"
ZH_FOOD = (
    "云南的美食很多，最有名的是过桥米线。一碗滚烫的鸡汤端上桌，米线、肉片和蔬菜一样一样放进去，汤的热气把它们烫熟。"
    "汽锅鸡也是云南的名菜，鸡肉放在汽锅里慢慢蒸，汤清味鲜。昆明人早上常吃一碗米线，再配一杯茶。"
)


def test_talk_at_the_start_in_the_middle_and_at_the_end_is_counted_and_placed() -> None:
    body = STARTER * 10  # 640 words
    start = "Here is the text of the guide:\n" + body
    middle = STARTER * 5 + "\nBelow is the outline of the 168 word job description.\n" + STARTER * 5
    end = body + "\nI hope this helps! Let me know if you would like any changes."
    for text, tenth in ((start, 0), (middle, 5), (end, 9)):  # the middle line's middle word: 325 of 650
        figures = response_figures(BRIEF, text, LEXICAL)
        assert figures["talk_lines"] == 1, text[:40]
        assert figures["talk_per_1000_words"] == pytest.approx(1000 / count_words(text), abs=1e-4)
        curve = figures["by_tenth"]["talk_per_1000_words"]
        assert [i for i, value in enumerate(curve) if value] == [tenth]
    clean = response_figures(BRIEF, STARTER * 10, LEXICAL)
    assert clean["talk_lines"] == 0 and clean["by_tenth"]["talk_per_1000_words"] == [0.0] * 10


def test_chinese_talk_is_counted_and_a_chinese_answer_matches_a_chinese_brief() -> None:
    text = "好的，以下是第三部分：\n" + ZH_FOOD * 3 + "\n希望这篇文章对你有帮助！"
    figures = response_figures(ZH_BRIEF, text, LEXICAL)
    assert figures["talk_lines"] == 2
    assert figures["brief_language"] == figures["language"] == "zh"
    assert figures["language_match"] is True and figures["language_share"] > 0.95
    assert figures["on_topic"] == 1.0


def test_the_wrong_language_is_a_mismatch() -> None:
    english_answer = response_figures(ZH_BRIEF, STARTER * 3, LEXICAL)
    assert english_answer["brief_language"] == "zh" and english_answer["language"] == "en"
    assert english_answer["language_match"] is False and english_answer["language_share"] == 0.0
    chinese_answer = response_figures(BRIEF, ZH_FOOD, LEXICAL)
    assert chinese_answer["language_match"] is False and chinese_answer["language"] == "zh"
    french = "Le levain se nourrit chaque matin avec de la farine et de l'eau, dans un bocal propre. " * 5
    assert response_figures(BRIEF, french, LEXICAL)["language_match"] is False  # Latin, but not English


def test_a_response_whose_second_half_drifts_shows_it_in_the_curve() -> None:
    text = STARTER * 10 + DRONES * 10  # 640 words on the brief, then 620 off it
    figures = response_figures(BRIEF, text, LEXICAL)
    on_topic = figures["by_tenth"]["on_topic"]
    assert on_topic[:5] == [1.0] * 5 and on_topic[5:] == [0.0] * 5
    assert figures["on_topic"] == pytest.approx(0.5, abs=0.15)  # 150-word chunks over the whole
    assert response_figures(BRIEF, STARTER * 20, LEXICAL)["on_topic"] == 1.0
    assert response_figures(BRIEF, DRONES * 20, LEXICAL)["on_topic"] == 0.0


def test_a_loop_in_the_last_tenth_shows_as_repeated_sentences_there_only() -> None:
    varied = " ".join(f"Sentence number {i} of the guide is about starter jar {i}." for i in range(90))
    loop = " The starter needs fresh flour and water every day." * 10  # 90 words after 810
    curve = position_curve(varied + loop, BRIEF, LEXICAL)
    assert curve["repeated_sentences"][:9] == [0.0] * 9 and curve["repeated_sentences"][9] == 1.0


def test_tenths_are_cut_at_sentence_ends_by_word_position() -> None:
    text = " ".join(f"Word {i} here." for i in range(20))  # 20 sentences of 2 counted words
    spans = tenths(text)
    assert all(span is not None for span in spans)
    assert [count_words(text[a:b]) for a, b in (span for span in spans if span)] == [4] * 10
    assert "".join(text[a:b] + " " for a, b in (span for span in spans if span)).strip() == text
    short = tenths("One sentence only.")
    assert short.count(None) == 9  # a one-sentence text has one part
    assert position_curve("", BRIEF, LEXICAL) == {name: [None] * 10 for name in CURVE_FIGURES}


def test_a_run_averages_the_curves_and_pools_the_talk() -> None:
    a = response_figures(BRIEF, "Here is the text:\n" + STARTER * 10, LEXICAL)
    b = response_figures(ZH_BRIEF, STARTER * 5, LEXICAL)
    figures = run_figures([a, b], [645, 320])
    assert figures["language_match_rate"] == 0.5 and figures["on_topic_lowest"] == 0.0
    assert figures["talk_per_1000_words_pooled"] == round(1000 / (645 + 320), 4)
    curve = mean_curve([a["by_tenth"], b["by_tenth"]])
    assert curve["on_topic"] == [0.5] * 10


async def test_score_and_report_carry_the_figures_and_the_plot(tmp_path: Path) -> None:
    rows = [
        {"prompt": BRIEF, "type": "guide", "length": 1000, "response": STARTER * 10 + DRONES * 10},
        {"prompt": ZH_BRIEF, "type": "guide", "length": 300, "response": "以下是文章：\n" + ZH_FOOD * 2},
        {"prompt": ZH_BRIEF, "type": "guide", "length": 300, "response": STARTER * 5},
    ]
    run = tmp_path / "run"
    run.mkdir()
    lines = (
        json.dumps(row | {"response_length": count_words(row["response"])}, ensure_ascii=False)
        for row in rows
    )
    (run / "predictions.jsonl").write_text("\n".join(lines) + "\n", "utf-8")
    scores = await ascore_run(run)
    assert scores.topic_scorer == "lexical" and scores.brief_checks["on_topic_threshold"] == LEXICAL.threshold
    assert scores.brief_checks["language_match_rate"] == round(2 / 3, 4)
    assert scores.brief_checks["talk_per_1000_words"] > 0
    assert set(scores.position_curve) == set(CURVE_FIGURES) and len(scores.position_curve["on_topic"]) == 10
    assert read_scores(run) == scores
    items = [json.loads(line) for line in (run / "item_scores.jsonl").read_text("utf-8").splitlines()]
    assert [item["brief_checks"]["language_match"] for item in items] == [True, True, False]
    assert items[0]["brief_checks"]["by_tenth"]["on_topic"][0] == 1.0

    report = write_report([run], tmp_path / "report")
    text = report.read_text("utf-8")
    assert "![figures by tenth](position_curve.png)" in text
    assert (tmp_path / "report" / "position_curve.png").stat().st_size > 1000
    for row in ("talk per 1,000 words", "on-topic", "language match | 0.667", "on-topic scorer | lexical"):
        assert f"| {row}" in text, row


def test_a_chinese_response_whose_second_half_drifts_shows_it_in_the_curve() -> None:
    drift = "股票市场今天上涨，银行和保险公司的股价都创下新高，投资者纷纷买入科技公司的股票。"
    text = ZH_FOOD * 5 + drift * 10  # 445 characters on the brief, then 370 off it
    curve = response_figures(ZH_BRIEF, text, LEXICAL)["by_tenth"]["on_topic"]
    assert curve[:4] == [1.0] * 4 and curve[6:] == [0.0] * 4
