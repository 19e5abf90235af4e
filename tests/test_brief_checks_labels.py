"""The brief checks against the hand-labelled set (eval/labels/): the issue's target of 0.9
precision and 0.9 recall on the held-back half, and floors at the latest held figures, so
that a change that loses ground fails.

The checks were written on the ``dev`` half only; the ``held`` half was scored once per
batch of changes (eval/README.md, "Brief checks"). Where a check misses the target, the
target test is an expected failure that names the measured figures: it fails loudly
(strict) the day the check reaches the target, and the floor test keeps it from sliding back.

For talk the held half is held out no longer: after its sixth scoring its misses were read
and patterns written for some of them (0.991 and 0.956 since), so its figures are a floor
only. So are the figures of ``brief_checks_fresh.jsonl`` (152 items of a run no pattern had
been written against, labelled before any detector ran on them): scored once (0.750 and
0.471), then its misses were read and patterns written for some of them. The held-out set for
talk is now ``brief_checks_fresh2.jsonl``: 166 items of new documents (eval/suites/talk_pool.jsonl),
labelled blind to the detector and scored once, at 5bc188c.

The learned talk model (``agentwrite/writing/talk_model.py``, off by default) was trained on
the dev half and the first two fresh sets, so its figures there are no held-out figures; on
the held half and the third fresh set it is scored with the patterns (``learned=True``). The
fourth fresh set (``brief_checks_fresh4.jsonl``) was labelled blind to every detector and
scored once, patterns alone and with the model: the held-out figures now.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from agentwrite.writing.language import brief_language, matches
from agentwrite.writing.talk import talk_spans
from agentwrite.writing.topic import LexicalScorer

LABELS = Path(__file__).resolve().parents[1] / "eval" / "labels"
TARGET = 0.9


@cache
def held(name: str) -> tuple[dict[str, Any], ...]:
    rows = (json.loads(line) for line in (LABELS / name).read_text("utf-8").splitlines() if line.strip())
    return tuple(row for row in rows if row["split"] == "held")


def precision_recall(pairs: list[tuple[bool, bool]]) -> tuple[float, float]:
    hits = sum(1 for predicted, true in pairs if predicted and true)
    predicted = sum(1 for p, _ in pairs if p)
    true = sum(1 for _, t in pairs if t)
    return hits / predicted, hits / true


@cache
def talk_figures(learned: bool = False) -> tuple[float, float]:
    return precision_recall(
        [(bool(talk_spans(i["text"], learned=learned)), i["talk"]) for i in held("brief_checks.jsonl")]
    )


@cache
def off_brief_figures() -> tuple[float, float]:
    lexical = LexicalScorer()
    paragraphs = [i for i in held("brief_checks.jsonl") if i["unit"] == "paragraph"]
    similarities = [lexical.similarities([i["text"]], i["brief"])[0] for i in paragraphs]
    return precision_recall(
        [(s < lexical.threshold, not i["on_brief"]) for i, s in zip(paragraphs, similarities, strict=True)]
    )


@cache
def language_figures() -> tuple[float, float]:
    sections = held("section_language.jsonl")
    return precision_recall(
        [(not matches(s["text"], brief_language(s["brief"])), not s["in_brief_language"]) for s in sections]
    )


def test_the_held_half_is_about_half_and_holds_both_classes() -> None:
    items, sections = held("brief_checks.jsonl"), held("section_language.jsonl")
    assert 200 <= len(items) <= 250 and 50 <= len(sections) <= 70
    assert {i["talk"] for i in items} == {True, False} == {i["on_brief"] for i in items}
    assert {s["in_brief_language"] for s in sections} == {True, False}


def test_language_reaches_the_target_on_the_held_half() -> None:
    precision, recall = language_figures()
    assert precision >= TARGET and recall >= TARGET


@cache
def talk_set_figures(name: str, learned: bool = False) -> tuple[float, float]:
    items = [json.loads(line) for line in (LABELS / name).read_text("utf-8").splitlines()]
    return precision_recall([(bool(talk_spans(i["text"], learned=learned)), i["talk"]) for i in items])


def learned_talk_figures() -> tuple[float, float]:
    return talk_figures(learned=True)


def fresh3_learned_talk_figures() -> tuple[float, float]:
    return talk_set_figures("brief_checks_fresh3.jsonl", learned=True)


def fresh4_talk_figures() -> tuple[float, float]:
    return talk_set_figures("brief_checks_fresh4.jsonl")


def fresh4_learned_talk_figures() -> tuple[float, float]:
    return talk_set_figures("brief_checks_fresh4.jsonl", learned=True)


def fresh_talk_figures() -> tuple[float, float]:
    return talk_set_figures("brief_checks_fresh.jsonl")


def fresh2_talk_figures() -> tuple[float, float]:
    return talk_set_figures("brief_checks_fresh2.jsonl")


def fresh3_talk_figures() -> tuple[float, float]:
    return talk_set_figures("brief_checks_fresh3.jsonl")


def below_target(figures: Any, set_id: str, first_scoring: str) -> Any:
    """A fresh set's figures as a parameter that is expected to miss the target, for the
    reason its first scoring gave."""
    return pytest.param(figures, marks=pytest.mark.xfail(strict=True, reason=first_scoring), id=set_id)


@pytest.mark.parametrize(
    "figures",
    [
        below_target(
            fresh_talk_figures,
            "fresh",
            "fresh set, first scoring (b2f6157): precision 0.750, recall 0.471 (51 talk of 152); "
            "0.951 and 0.765 after patterns written from its misses",
        ),
        below_target(
            fresh2_talk_figures,
            "fresh2",
            "second fresh set, first scoring (5bc188c, detector of b516a49): precision 0.977, "
            "recall 0.538 (78 talk of 166); the detector before b516a49: 0.911 and 0.526; a dev set since, "
            "0.986 and 0.897 after patterns written from its misses",
        ),
        below_target(
            fresh3_talk_figures,
            "fresh3",
            "third fresh set, first scoring (e23084f, detector of f2da1a6): precision 0.941, "
            "recall 0.582 (55 talk of 156); the detector of 90b55d9 gives the same verdicts",
        ),
        below_target(
            fresh3_learned_talk_figures,
            "fresh3-learned",
            "third fresh set with the learned talk model (trained without it; its items were scored "
            "while the model's kind was chosen, so not blind): precision 0.893, recall 0.909",
        ),
        below_target(
            fresh4_talk_figures,
            "fresh4",
            "fourth fresh set, labelled blind to every detector, first scoring (97d907e, patterns of "
            "adc326d): precision 0.889, recall 0.410 (39 talk of 136)",
        ),
        below_target(
            fresh4_learned_talk_figures,
            "fresh4-learned",
            "fourth fresh set with the learned talk model (adc326d), first scoring: precision 0.828, "
            "recall 0.615",
        ),
    ],
)
def test_talk_reaches_the_target_on_a_fresh_set(figures: Any) -> None:
    precision, recall = figures()
    assert precision >= TARGET and recall >= TARGET


@pytest.mark.xfail(strict=True, reason="held half, first scoring: precision 0.815, recall 0.898 (59 items)")
def test_off_brief_lexical_reaches_the_target_on_the_held_half() -> None:
    precision, recall = off_brief_figures()
    assert precision >= TARGET and recall >= TARGET


@pytest.mark.parametrize(
    ("figures", "floor"),
    [
        (talk_figures, (0.99, 0.95)),
        (fresh_talk_figures, (0.95, 0.76)),
        (fresh2_talk_figures, (0.98, 0.89)),
        (fresh3_talk_figures, (0.94, 0.58)),
        (learned_talk_figures, (0.91, 0.99)),
        (fresh3_learned_talk_figures, (0.89, 0.90)),
        (fresh4_talk_figures, (0.88, 0.41)),
        (fresh4_learned_talk_figures, (0.82, 0.61)),
        (off_brief_figures, (0.81, 0.89)),
        (language_figures, (1.0, 0.91)),
    ],
    ids=[
        "talk",
        "talk-fresh",
        "talk-fresh2",
        "talk-fresh3",
        "talk-learned",
        "talk-fresh3-learned",
        "talk-fresh4",
        "talk-fresh4-learned",
        "off-brief-lexical",
        "language",
    ],
)
def test_no_check_falls_below_its_first_held_figures(figures: Any, floor: tuple[float, float]) -> None:
    precision, recall = figures()
    assert precision >= floor[0] and recall >= floor[1]
