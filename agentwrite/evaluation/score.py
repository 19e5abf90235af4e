"""Score a run folder: the core of ``agentwrite eval score``.

Reads ``predictions.jsonl`` (ours, or a LongBench-Write prediction file in a folder of its
own) and writes ``item_scores.jsonl`` (one line per prediction) and ``scores.json``
(S_l overall, by length bucket, type and language; S_q and the overall score when a judge
is given; mean coherence figures; how the responses keep to their briefs, with the position
curve by tenths; plan adherence for agent runs; counts and failures).
Judge ratings are cached in ``judgements.jsonl`` by key, response and judge, so a
re-score only asks about what changed (``agentwrite.evaluation.judge_cache``).

Here the run folder's files are read and written; one prediction's figures are
``agentwrite.evaluation.item_score``, the run's ``agentwrite.evaluation.aggregate``, the
files' types ``agentwrite.evaluation.score_files`` and the formulas
``agentwrite.evaluation.longbench``. The names of those types and functions stay importable
from here.
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from agentwrite.errors import InputError
from agentwrite.evaluation.aggregate import aggregate
from agentwrite.evaluation.embeddings import Embedder
from agentwrite.evaluation.item_score import load_document, score_item
from agentwrite.evaluation.judge_cache import judge_all
from agentwrite.evaluation.longbench import bucket_of
from agentwrite.evaluation.predict import FAILURES, PREDICTIONS
from agentwrite.evaluation.score_files import (
    ITEM_SCORES,
    SCORES,
    ItemScore,
    LeftOut,
    LengthGroup,
    RunScore,
    ScoreProgress,
    read_scores,
)
from agentwrite.evaluation.suites import item_key
from agentwrite.evaluation.text_figures import text_figures
from agentwrite.files import append_jsonl, atomic_file, read_numbered_jsonl, write_json
from agentwrite.files.run_folder import RUN_FILE
from agentwrite.llm.base import ChatModel
from agentwrite.sync import run_sync
from agentwrite.writing.topic import LexicalScorer, TopicScorer

log = logging.getLogger(__name__)

MIN_JUDGE_CONTEXT = 512
"""The smallest judge window in tokens that leaves room for a rubric and a response."""


def load_predictions(path: Path) -> list[dict[str, Any]]:
    """Prediction lines with a ``key`` (computed for files that lack one) and a length."""
    rows = []
    seen: dict[str, int] = defaultdict(int)
    for number, row in read_numbered_jsonl(path):
        if not isinstance(row.get("prompt"), str) or not isinstance(row.get("length"), int):
            raise InputError(f"{path}:{number}: a prediction needs a string prompt and an integer length")
        if not isinstance(row.get("response"), str) and not isinstance(row.get("response_length"), int):
            raise InputError(f"{path}:{number}: a prediction needs a response or a response_length")
        if "key" not in row:
            base = item_key(row["prompt"], row["length"])
            seen[base] += 1
            row["key"] = item_key(row["prompt"], row["length"], seen[base])
        rows.append(row)
    return rows


def check_score_input(
    run_dir: Path, concurrency: int = 4, attempts: int = 3, judge_max_context: int | None = None
) -> Path:
    """The predictions file to score for ``run_dir`` (a run folder or the file itself);
    InputError, before anything is loaded, when it is missing or a number is out of range."""
    if concurrency < 1 or attempts < 1:
        raise InputError(f"concurrency and attempts must be at least 1, not {min(concurrency, attempts)}")
    if judge_max_context is not None and judge_max_context < MIN_JUDGE_CONTEXT:
        raise InputError(f"the judge's context window must be at least {MIN_JUDGE_CONTEXT} tokens")
    path = run_dir / PREDICTIONS if run_dir.is_dir() else run_dir
    if not path.is_file():
        raise InputError(f"{path} does not exist or is not a file; give a run folder or its predictions")
    return path


async def ascore_run(
    run_dir: Path,
    judge_model: ChatModel | None = None,
    *,
    embed: Embedder | None = None,
    topic: TopicScorer | None = None,
    concurrency: int = 4,
    attempts: int = 3,
    judge_max_context: int | None = None,
    on_item: Callable[[ScoreProgress], None] | None = None,
) -> RunScore:
    """Score the predictions in ``run_dir`` (a folder, or a predictions file whose folder
    receives the outputs), write ``item_scores.jsonl`` and ``scores.json`` and return what
    the latter holds. ``topic`` scores the on-topic share (default: the lexical scorer);
    ``judge_max_context`` is the judge's context window in tokens (default: what its server
    reports); ``on_item`` hears a ``ScoreProgress`` after each item judged, then after each
    item scored."""
    topic = topic or LexicalScorer()
    path = check_score_input(run_dir, concurrency, attempts, judge_max_context)
    run_dir = path.parent
    rows = load_predictions(path)
    if not rows:
        raise InputError(f"{path} holds no predictions")
    judged, judge_failures = (
        await judge_all(rows, run_dir, judge_model, concurrency, attempts, judge_max_context, on_item)
        if judge_model
        else ({}, [])
    )
    items = []
    for row in rows:
        items.append(score_item(row, load_document(run_dir, row), judged.get(row["key"]), embed, topic))
        if on_item:
            on_item(ScoreProgress(row["key"], "score", len(items), 0, len(rows)))
    with atomic_file(run_dir / ITEM_SCORES) as tmp, tmp.open("w", encoding="utf-8") as out:
        for item in items:
            append_jsonl(out, item.model_dump(exclude_none=True))
    judge = (judge_model.name, judge_failures) if judge_model is not None else None
    scores = aggregate(
        items, _run_failures(run_dir, {item.key for item in items}), _run_record(run_dir), judge, topic
    )
    write_json(run_dir / SCORES, scores.model_dump(mode="json"))
    return scores


def _run_failures(run_dir: Path, predicted: set[str]) -> list[LeftOut]:
    """The prompts ``failures.jsonl`` lists that have no prediction (a resumed run may have
    answered a prompt that failed before)."""
    if not (run_dir / FAILURES).exists():
        return []
    return [
        LeftOut(key=row["key"], reason=row.get("reason", ""))
        for _, row in read_numbered_jsonl(run_dir / FAILURES)
        if row.get("key") not in predicted
    ]


def _run_record(run_dir: Path) -> dict[str, Any]:
    """The run folder's ``run.json`` ({} for a bare predictions file)."""
    path = run_dir / RUN_FILE
    return json.loads(path.read_text("utf-8")) if path.exists() else {}


def score_run(run_dir: Path, judge_model: ChatModel | None = None, **kwargs: Any) -> RunScore:
    """Synchronous twin of ``ascore_run`` (same arguments)."""
    return run_sync(lambda: ascore_run(run_dir, judge_model, **kwargs))


__all__ = [
    "ITEM_SCORES",
    "SCORES",
    "ItemScore",
    "LeftOut",
    "LengthGroup",
    "RunScore",
    "ScoreProgress",
    "aggregate",
    "ascore_run",
    "bucket_of",
    "read_scores",
    "score_item",
    "score_run",
    "text_figures",
]
