"""S_l, S_q and the LongBench-Write word count against hand-computed cases; a run's
figures from its items (``aggregate``) and the scores.json files they make."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from agentwrite.evaluation.aggregate import aggregate
from agentwrite.evaluation.longbench import (
    DIMENSIONS,
    dimension_score,
    length_score,
    overall_score,
    quality_score,
)
from agentwrite.evaluation.score_files import RENAMED_FIGURES, ItemScore, LeftOut, LengthGroup, read_scores
from agentwrite.length import count_words

RESULTS = Path(__file__).resolve().parents[1] / "eval" / "results"


@pytest.mark.parametrize(
    ("required", "produced", "expected"),
    [
        (1000, 1000, 100.0),
        (1000, 1300, 90.0),  # 30 % over: 1 - 0.3/3
        (1000, 2500, 50.0),  # 150 % over: 1 - 1.5/3
        (1000, 4000, 0.0),  # 300 % over: exactly zero
        (1000, 9000, 0.0),  # far over: clamped at zero
        (1000, 800, 87.5),  # x/y = 1.25: 1 - 0.25/2
        (1000, 500, 50.0),  # x/y = 2: 1 - 1/2
        (1000, 333, 0.0),  # x/y > 3: clamped at zero
        (1000, 0, 0.0),  # nothing produced
        (100, 101, 100 * (1 - 0.01 / 3)),
    ],
)
def test_length_score(required: int, produced: int, expected: float) -> None:
    assert length_score(required, produced) == pytest.approx(expected)


def test_length_score_rejects_a_zero_requirement() -> None:
    with pytest.raises(ValueError):
        length_score(0, 10)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", 0),
        ("One two, three-four; five.", 5),
        ("don't stop", 3),  # the apostrophe splits: don, t, stop
        ("世界你好", 4),
        ("我爱 Python 和 tea。", 5),
        ("GPT4 x86 中文abc 3D", 2),  # letters glued to digits or CJK have no word boundary
        ("Ünïcode café", 0),  # accented letters are word characters: no boundary, no word
    ],
)
def test_count_words_hand_counted(text: str, words: int) -> None:
    assert count_words(text) == words


def test_quality_score_from_hand_computed_ratings() -> None:
    first = dict.fromkeys(DIMENSIONS, 4)
    second = dict.fromkeys(DIMENSIONS, 2) | {"accuracy": 5}
    s_q, per = quality_score([first, second])
    assert per["relevance"] == 50.0  # mean 3 -> (3 - 1) * 25
    assert per["accuracy"] == 87.5  # mean 4.5 -> 3.5 * 25
    assert s_q == pytest.approx((5 * 50.0 + 87.5) / 6)
    assert dimension_score([1, 1, 1]) == 0.0
    assert overall_score(100.0, 0.0) == 50.0


def test_quality_score_needs_every_dimension() -> None:
    with pytest.raises(KeyError):
        quality_score([{"relevance": 5}])


def item(key: str, s_l: float, bucket: str = "[0,500)", **fields: Any) -> ItemScore:
    return ItemScore(
        key=key,
        type="essay",
        length=100,
        response_length=100,
        s_l=s_l,
        bucket=bucket,
        language="en",
        **fields,
    )


def test_aggregate_counts_failed_prompts_as_zero_only_in_s_l_failures_as_zero() -> None:
    items = [item("a", 90.0), item("b", 60.0, bucket="[500,2k)")]
    failed = [LeftOut(key="c", reason="plan failed"), LeftOut(key="c", reason="plan failed again")]
    scores = aggregate(items, failed, {"target": "direct"}, None)
    assert scores.s_l == 75.0  # the mean over the two predictions
    assert scores.failed_items == 1  # one prompt, failed twice
    assert scores.s_l_failures_as_zero == 50.0  # (90 + 60 + 0) / 3
    assert scores.s_l_by_bucket == {
        "[0,500)": LengthGroup(n=1, s_l=90.0),
        "[500,2k)": LengthGroup(n=1, s_l=60.0),
    }
    assert scores.run_failures == failed


def test_aggregate_gives_s_q_and_overall_only_over_rated_items() -> None:
    rated = dict.fromkeys(DIMENSIONS, 4)
    items = [item("a", 90.0, ratings=rated), item("b", 70.0)]
    unrated = [LeftOut(key="b", reason="no ratings")]
    scores = aggregate(items, [], {}, ("judge", unrated))
    assert (scores.judge, scores.judged, scores.judge_failures) == ("judge", 1, unrated)
    assert scores.s_q == 75.0  # every dimension (4 - 1) * 25, item b left out
    assert scores.overall == (80.0 + 75.0) / 2  # S_l over both items, S_q over the rated one

    nothing_rated = aggregate([item("b", 70.0)], [], {}, ("judge", unrated))
    written = nothing_rated.model_dump(mode="json")
    assert written["judged"] == 0 and "s_q" not in written and "overall" not in written


def test_score_files_of_the_committed_runs_read_back_to_the_same_json() -> None:
    """Every scores.json in eval/results (written before RunScore existed) validates, and
    writing it again gives the same JSON, key order included, old figure names renamed."""
    files = sorted(RESULTS.glob("**/scores.json"))
    assert files, f"no scores.json under {RESULTS}"
    for path in files:
        stored = json.loads(path.read_text("utf-8"))
        stored["coherence"] = {RENAMED_FIGURES.get(k, k): v for k, v in stored["coherence"].items()}
        written = read_scores(path.parent).model_dump(mode="json")
        assert list(written) == list(stored), path
        assert written == stored, path
