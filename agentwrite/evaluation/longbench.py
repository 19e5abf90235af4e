"""LongBench-Write's formulas: the length score S_l, the quality score S_q built from judge
ratings, and the length buckets its figures are reported by.

The formulas are LongBench-Write's (Bai et al., "LongWriter", arXiv 2408.07055): with the
required length x and the produced length y (both in words as ``agentwrite.length`` counts
them), an over-long output loses a third of the score per 100 % of excess, an under-long one
loses half of it per 100 % of shortfall:

    S_l = 100 * max(0, 1 - (y/x - 1) / 3)   if y > x
    S_l = 100 * max(0, 1 - (x/y - 1) / 2)   otherwise

A judge rates each response on six dimensions with integers 1 to 5; a dimension's score is
``(mean - 1) * 25`` over the rated items (so 0 to 100) and S_q is the mean of the six.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from statistics import fmean

DIMENSIONS: tuple[str, ...] = (
    "relevance",
    "accuracy",
    "coherence",
    "clarity",
    "breadth_and_depth",
    "reading_experience",
)
"""The six quality dimensions a judge rates, in the order they are reported."""


def length_score(required: int, produced: int) -> float:
    """S_l of one output: 100 on target, falling off linearly in the length ratio.

    >>> length_score(1000, 1000), length_score(1000, 2000), length_score(1000, 500)
    (100.0, 66.66666666666667, 50.0)
    >>> length_score(1000, 4000), length_score(1000, 300), length_score(1000, 0)
    (0.0, 0.0, 0.0)
    """
    if required < 1:
        raise ValueError(f"the required length must be at least 1, got {required}")
    if produced <= 0:
        return 0.0
    if produced > required:
        return 100.0 * max(0.0, 1.0 - (produced / required - 1.0) / 3.0)
    return 100.0 * max(0.0, 1.0 - (required / produced - 1.0) / 2.0)


def dimension_score(ratings: Iterable[int]) -> float:
    """Score of one dimension: the mean 1-5 rating mapped onto 0-100.

    >>> dimension_score([5, 5]), dimension_score([1]), dimension_score([3, 4])
    (100.0, 0.0, 62.5)
    """
    values = list(ratings)
    if not values:
        raise ValueError("no ratings to score")
    return (fmean(values) - 1.0) * 25.0


def quality_score(ratings: Iterable[Mapping[str, int]]) -> tuple[float, dict[str, float]]:
    """S_q and the per-dimension scores from each item's ratings (all six dimensions each).

    >>> s_q, per = quality_score([dict.fromkeys(DIMENSIONS, 5), dict.fromkeys(DIMENSIONS, 3)])
    >>> s_q, per["clarity"]
    (75.0, 75.0)
    """
    items = list(ratings)
    if not items:
        raise ValueError("no rated items to score")
    per = {d: dimension_score(item[d] for item in items) for d in DIMENSIONS}
    return fmean(per.values()), per


def overall_score(s_l: float, s_q: float) -> float:
    """The overall score: the mean of S_l and S_q.

    >>> overall_score(80.0, 60.0)
    70.0
    """
    return (s_l + s_q) / 2.0


BUCKETS: tuple[tuple[str, int, float], ...] = (
    ("[0,500)", 0, 500),
    ("[500,2k)", 500, 2000),
    ("[2k,4k)", 2000, 4000),
    ("[4k,20k]", 4000, 20000.5),
    (">20k", 20001, float("inf")),
)
"""LongBench-Write's length buckets of the required length, plus one above 20,000 words."""


def bucket_of(length: int) -> str:
    """The bucket of a required length.

    >>> bucket_of(499), bucket_of(500), bucket_of(20000), bucket_of(30000)
    ('[0,500)', '[500,2k)', '[4k,20k]', '>20k')
    """
    return next(name for name, low, high in BUCKETS if low <= length < high)
