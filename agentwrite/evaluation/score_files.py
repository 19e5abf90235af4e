"""What ``agentwrite eval score`` writes, as types: an ``item_scores.jsonl`` line per
prediction (``ItemScore``) and ``scores.json`` (``RunScore``, read back by ``read_scores``),
with the progress it reports while it scores."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, ValidationError, field_validator

from agentwrite.errors import InputError
from agentwrite.evaluation.position import Curve

SCORES = "scores.json"
ITEM_SCORES = "item_scores.jsonl"


@dataclass(frozen=True)
class ScoreProgress:
    """Sent to ``on_item`` after each item of a ``stage`` ("judge", then "score"): its key,
    the items ``done`` in that stage (the judge's cached ratings too) of ``total``, and
    those the judge ``failed`` on."""

    key: str
    stage: str
    done: int
    failed: int
    total: int


class ItemScore(BaseModel):
    """A line of ``item_scores.jsonl``: one prediction's figures."""

    key: str
    type: str
    length: int = Field(description="The required length in words.")
    response_length: int
    s_l: float
    bucket: str
    language: str
    coherence: dict[str, Any] | None = Field(
        None, description="text_figures of the response, when it has text."
    )
    brief_checks: dict[str, Any] | None = Field(
        None,
        description="response_figures (talk, on-topic, language, by tenth), when the response has text.",
    )
    plan: dict[str, float] | None = Field(None, description="Plan adherence, for agent runs.")
    ratings: dict[str, int] | None = Field(None, description="The judge's six ratings, when judged.")
    judge_truncated: bool | None = None


class LengthGroup(BaseModel):
    """S_l of the items of one length bucket, type or language, and how many they are."""

    n: int
    s_l: float


class LeftOut(BaseModel):
    """An item left out of a figure: a prompt the run failed on, or a response the judge never rated."""

    key: str
    reason: str


RENAMED_FIGURES = {"repeated_sentence_rate": "cross_section_repeated_sentence_rate"}
"""Old names of coherence figures in scores.json, read under their current names."""


def _absent(value: object) -> bool:
    return value is None


def _empty(value: dict[str, Any]) -> bool:
    return not value


class RunScore(BaseModel):
    """``scores.json``: a run's figures (eval/README.md, "Outputs of score and report").

    The judge's fields are left out of the file without a judge, and S_q, its dimensions
    and the overall score also when the judge rated nothing. Coherence figures under an
    old name are read under the current one.

    >>> score = RunScore.model_validate({
    ...     "run": {}, "items": 1, "failed_items": 0, "s_l": 90.0, "s_l_failures_as_zero": 90.0,
    ...     "s_l_by_bucket": {"[0,500)": {"n": 1, "s_l": 90.0}}, "s_l_by_type": {}, "s_l_by_language": {},
    ...     "coherence": {"repeated_sentence_rate": 0.4}, "plan_adherence": {}, "run_failures": []})
    >>> score.coherence, score.s_l_by_bucket["[0,500)"].n, score.s_q
    ({'cross_section_repeated_sentence_rate': 0.4}, 1, None)
    >>> "s_q" in score.model_dump(mode="json")
    False
    """

    run: dict[str, Any] = Field(description="The run folder's run.json ({} for a bare predictions file).")
    items: int = Field(description="Predictions scored.")
    failed_items: int = Field(description="Prompts the run failed on (no prediction).")
    s_l: float
    s_l_failures_as_zero: float = Field(description="S_l with each failed prompt counted as 0.")
    s_l_by_bucket: dict[str, LengthGroup]
    s_l_by_type: dict[str, LengthGroup]
    s_l_by_language: dict[str, LengthGroup]
    coherence: dict[str, float] = Field(description="Means over the items of text_figures.")
    brief_checks: dict[str, float] = Field(
        default_factory=dict,
        exclude_if=_empty,
        description="run_figures over the items with text (absent from older scores).",
    )
    topic_scorer: str | None = Field(
        None, exclude_if=_absent, description="The on-topic scorer's name (agentwrite.writing.topic)."
    )
    position_curve: Curve = Field(
        default_factory=dict,
        exclude_if=_empty,
        description="Mean by tenth of the items' position curves (absent from older scores).",
    )
    plan_adherence: dict[str, float] = Field(description="Means over the agent's documents.")
    run_failures: list[LeftOut]
    judge: str | None = Field(None, exclude_if=_absent, description="The judge's model name.")
    judged: int | None = Field(None, exclude_if=_absent, description="Items the judge rated.")
    judge_failures: list[LeftOut] | None = Field(None, exclude_if=_absent)
    s_q: float | None = Field(None, exclude_if=_absent)
    s_q_by_dimension: dict[str, float] | None = Field(None, exclude_if=_absent)
    overall: float | None = Field(None, exclude_if=_absent, description="(S_l + S_q) / 2.")

    @field_validator("coherence", mode="before")
    @classmethod
    def _current_names(cls, figures: Any) -> Any:
        if not isinstance(figures, dict):
            return figures  # left for the type check to refuse
        return {RENAMED_FIGURES.get(name, name): value for name, value in figures.items()}


def read_scores(run_dir: Path) -> RunScore:
    """The ``scores.json`` of a scored run folder; InputError when it is not one ``score`` wrote."""
    path = run_dir / SCORES
    try:
        return RunScore.model_validate_json(path.read_bytes())
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        detail = f"{where}: {first['msg']}" if where else first["msg"]
        raise InputError(f"{path} is not a scores file: {detail}") from None
