"""Section budgets: how many sections a target allows, and budgets scaled to add up to it."""

from __future__ import annotations

import math

from agentwrite.domain import MAX_SECTIONS, Plan


def section_count_bounds(target: int, lo: int, hi: int) -> tuple[int, int]:
    """How many sections a plan for ``target`` words may have, given budget bounds.

    >>> section_count_bounds(10_000, 200, 1000), section_count_bounds(150, 200, 1000)
    ((10, 50), (1, 1))
    """
    fewest = max(1, math.ceil(target / hi))
    most = max(fewest, min(MAX_SECTIONS, target // lo))
    return min(fewest, MAX_SECTIONS), most


def normalise_budgets(budgets: list[int], target: int, lo: int, hi: int) -> list[int]:
    """Scale budgets to add up to ``target``, each within ``[lo, hi]`` where that is possible.

    Bounds that cannot hold for this many sections are widened just enough (a 150-word
    target split in 2 gets 75 each). Rounding keeps the exact sum.

    >>> normalise_budgets([100, 100, 200], 2000, 200, 1000)
    [500, 500, 1000]
    >>> normalise_budgets([1, 1, 10], 1200, 200, 1000)
    [200, 200, 800]
    >>> normalise_budgets([300, 300], 150, 200, 1000)
    [75, 75]
    """
    if not budgets:
        raise ValueError("no budgets to normalise")
    n = len(budgets)
    lo = min(lo, target // n) or 1
    hi = max(hi, math.ceil(target / n))
    weights = [max(b, 1) for b in budgets]

    def clamped(scale: float) -> list[float]:
        return [min(max(w * scale, lo), hi) for w in weights]

    # The clamped total grows with the scale: bisect for the scale that hits the target.
    low, high = 0.0, hi / min(weights)
    for _ in range(100):
        mid = (low + high) / 2
        if sum(clamped(mid)) < target:
            low = mid
        else:
            high = mid
    shares = clamped(high)
    return _round_to_sum(shares, target)


def _round_to_sum(shares: list[float], target: int) -> list[int]:
    """Largest-remainder rounding that keeps the sum.

    >>> _round_to_sum([1.5, 1.5, 1.0], 4)
    [2, 1, 1]
    """
    floors = [math.floor(s) for s in shares]
    short = target - sum(floors)
    order = sorted(range(len(shares)), key=lambda i: shares[i] - floors[i], reverse=True)
    for i in order[: max(short, 0)]:
        floors[i] += 1
    return floors


def with_budgets(plan: Plan, budgets: list[int]) -> Plan:
    """A copy of ``plan`` with new section budgets."""
    sections = [s.model_copy(update={"target_words": b}) for s, b in zip(plan.sections, budgets, strict=True)]
    return plan.model_copy(update={"sections": sections})
