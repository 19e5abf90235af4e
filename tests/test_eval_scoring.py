"""S_l, S_q and the LongBench-Write word count against hand-computed cases."""

from __future__ import annotations

import pytest

from agentwrite.evaluation.scoring import (
    DIMENSIONS,
    dimension_score,
    length_score,
    overall_score,
    quality_score,
)
from agentwrite.length import count_words


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
