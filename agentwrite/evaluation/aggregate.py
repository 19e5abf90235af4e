"""A run's figures from its items' (``scores.json``'s ``RunScore``): S_l overall and by
group, mean coherence and plan adherence, the brief figures, and S_q with a judge."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from statistics import fmean
from typing import Any

from agentwrite.evaluation.brief_figures import run_figures
from agentwrite.evaluation.longbench import overall_score, quality_score
from agentwrite.evaluation.position import mean_curve
from agentwrite.evaluation.score_files import ItemScore, LeftOut, LengthGroup, RunScore
from agentwrite.writing.topic import LexicalScorer, TopicScorer


def aggregate(
    items: Sequence[ItemScore],
    run_failures: Sequence[LeftOut],
    run: dict[str, Any],
    judge: tuple[str, list[LeftOut]] | None,
    topic: TopicScorer | None = None,
) -> RunScore:
    """A run's figures from its items' (no files read or written): S_l overall, with the
    run's failed prompts as 0, by bucket, type and language; mean coherence and plan
    adherence; the brief figures and the mean position curve, with the name and threshold
    of the ``topic`` scorer that gave them (default: the lexical scorer); with a ``judge``
    (its name, the items it failed on), S_q and the overall score.

    >>> from functools import partial
    >>> item = partial(ItemScore, type="essay", length=100, response_length=100, language="en")
    >>> items = [item(key="a", s_l=90.0, bucket="[0,500)"), item(key="b", s_l=60.0, bucket="[0,500)")]
    >>> score = aggregate(items, [LeftOut(key="c", reason="plan failed")], {}, None)
    >>> score.s_l, score.s_l_failures_as_zero, score.failed_items, score.s_q
    (75.0, 50.0, 1, None)
    """
    failed_keys = {failure.key for failure in run_failures}
    s_l = fmean(item.s_l for item in items)
    scores = RunScore(
        run=run,
        items=len(items),
        failed_items=len(failed_keys),
        s_l=round(s_l, 2),
        s_l_failures_as_zero=round(s_l * len(items) / (len(items) + len(failed_keys)), 2),
        s_l_by_bucket=_mean_by(items, lambda item: item.bucket),
        s_l_by_type=_mean_by(items, lambda item: item.type),
        s_l_by_language=_mean_by(items, lambda item: item.language),
        coherence=_mean_figures([i.coherence for i in items if i.coherence is not None]),
        plan_adherence=_mean_figures([i.plan for i in items if i.plan is not None]),
        run_failures=list(run_failures),
    )
    checked = [(item.brief_checks, item.response_length) for item in items if item.brief_checks is not None]
    if checked:
        topic = topic or LexicalScorer()
        figures = [figures for figures, _ in checked]
        scores.brief_checks = run_figures(figures, [words for _, words in checked])
        scores.brief_checks["on_topic_threshold"] = topic.threshold
        scores.topic_scorer = topic.name
        scores.position_curve = mean_curve([f["by_tenth"] for f in figures])
    if judge is not None:
        rated = [item.ratings for item in items if item.ratings is not None]
        scores.judge, scores.judged, scores.judge_failures = judge[0], len(rated), judge[1]
        if rated:
            s_q, per_dimension = quality_score(rated)
            scores.s_q = round(s_q, 2)
            scores.s_q_by_dimension = {k: round(v, 2) for k, v in per_dimension.items()}
            scores.overall = round(overall_score(s_l, s_q), 2)
    return scores


def _mean_by(items: Iterable[ItemScore], group_of: Callable[[ItemScore], str]) -> dict[str, LengthGroup]:
    """Mean S_l of the items in each group, by group name.

    >>> from functools import partial
    >>> item = partial(ItemScore, key="k", type="essay", length=100, response_length=100, language="en")
    >>> _mean_by([item(s_l=90.0, bucket="a"), item(s_l=61.0, bucket="a")], lambda i: i.bucket)
    {'a': LengthGroup(n=2, s_l=75.5)}
    """
    groups: dict[str, list[float]] = defaultdict(list)
    for item in items:
        groups[group_of(item)].append(item.s_l)
    return {name: LengthGroup(n=len(v), s_l=round(fmean(v), 2)) for name, v in sorted(groups.items())}


def _mean_figures(records: Sequence[dict[str, Any]]) -> dict[str, float]:
    """Mean of each numeric figure over the records that have it (lists and None left out).

    >>> _mean_figures([{"a": 1, "b": None, "sections": []}, {"a": 0.5, "b": 0.2}])
    {'a': 0.75, 'b': 0.2}
    """
    names = sorted({k for r in records for k, v in r.items() if isinstance(v, int | float)})
    return {
        name: round(fmean(values), 4)
        for name in names
        if (values := [r[name] for r in records if isinstance(r.get(name), int | float)])
    }
