"""Score a run folder: the core of ``agentwrite eval score``.

Reads ``predictions.jsonl`` (ours, or a LongBench-Write prediction file in a folder of its
own) and writes ``item_scores.jsonl`` (one line per prediction) and ``scores.json``
(S_l overall, by length bucket, type and language; S_q and the overall score when a judge
is given; mean coherence figures; how the responses keep to their briefs, with the position
curve by tenths; plan adherence for agent runs; counts and failures).
Judge ratings are cached in ``judgements.jsonl`` by key, response and judge, so a
re-score only asks about what changed.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from statistics import fmean
from typing import Any

from pydantic import BaseModel, Field, ValidationError, field_validator

from agentwrite.domain import Document
from agentwrite.errors import InputError
from agentwrite.evaluation.brief_figures import response_figures, run_figures
from agentwrite.evaluation.coherence import adjacent_similarity, brief_similarity
from agentwrite.evaluation.embeddings import Embedder, embed_long
from agentwrite.evaluation.judge import JudgeError, judge
from agentwrite.evaluation.position import Curve, mean_curve
from agentwrite.evaluation.run import DOCUMENTS, FAILURES, PREDICTIONS, RUN_FILE
from agentwrite.evaluation.scoring import length_score, overall_score, quality_score
from agentwrite.evaluation.structure import plan_adherence, split_markdown_sections
from agentwrite.evaluation.suites import item_key
from agentwrite.files import append_jsonl, atomic_file, read_jsonl, read_numbered_jsonl, write_json
from agentwrite.length import count_words
from agentwrite.llm.base import ChatModel
from agentwrite.sync import run_sync
from agentwrite.text_stats import (
    cross_section_repeated_sentence_rate,
    distinct_n,
    document_repeated_sentence_rate,
    gibberish_rate,
    repeated_ngram_rate,
)
from agentwrite.writing.language import brief_language
from agentwrite.writing.topic import LexicalScorer, TopicScorer

log = logging.getLogger(__name__)

MIN_JUDGE_CONTEXT = 512
"""The smallest judge window in tokens that leaves room for a rubric and a response."""

SCORES = "scores.json"
ITEM_SCORES = "item_scores.jsonl"
JUDGEMENTS = "judgements.jsonl"

BUCKETS: tuple[tuple[str, int, float], ...] = (
    ("[0,500)", 0, 500),
    ("[500,2k)", 500, 2000),
    ("[2k,4k)", 2000, 4000),
    ("[4k,20k]", 4000, 20000.5),
    (">20k", 20001, float("inf")),
)
"""LongBench-Write's length buckets of the required length, plus one above 20,000 words."""


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


class Failure(BaseModel):
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
    run_failures: list[Failure]
    judge: str | None = Field(None, exclude_if=_absent, description="The judge's model name.")
    judged: int | None = Field(None, exclude_if=_absent, description="Items the judge rated.")
    judge_failures: list[Failure] | None = Field(None, exclude_if=_absent)
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


def bucket_of(length: int) -> str:
    """The bucket of a required length.

    >>> bucket_of(499), bucket_of(500), bucket_of(20000), bucket_of(30000)
    ('[0,500)', '[500,2k)', '[4k,20k]', '>20k')
    """
    return next(name for name, low, high in BUCKETS if low <= length < high)


def text_figures(
    brief: str, sections: Sequence[str], embed: Embedder | None, response: str | None = None
) -> dict[str, Any]:
    """Coherence figures of one response given as its sections' texts.

    ``response`` is the whole text as delivered (headings included; the sections joined
    when not given): the document-level repeated-sentence rate and the gibberish rate are
    taken on it, so a direct answer, one section, gets them too. ``sections`` in the result
    holds per-section records (position, words, distinct-2, repeated 4-gram rate and, with
    ``embed``, similarity to the brief and to the previous section).

    >>> figures = text_figures("Tea.", ["Tea grows on the hills. Tea grows on the hills."], None)
    >>> figures["document_repeated_sentence_rate"], figures["cross_section_repeated_sentence_rate"]
    (1.0, 0.0)
    >>> text_figures("Tea.", ["Tea grows on the hills of scorpice."], None)["gibberish_rate"]
    0.1429
    """
    whole = "\n\n".join(sections)
    delivered = whole if response is None else response
    per_section: list[dict[str, Any]] = [
        {
            "position": i,
            "words": count_words(text),
            "distinct_2": round(distinct_n(text, 2), 4),
            "repeated_4gram_rate": round(repeated_ngram_rate(text, 4), 4),
        }
        for i, text in enumerate(sections)
    ]
    figures: dict[str, Any] = {
        "distinct_1": round(distinct_n(whole, 1), 4),
        "distinct_2": round(distinct_n(whole, 2), 4),
        "repeated_4gram_rate": round(repeated_ngram_rate(whole, 4), 4),
        "document_repeated_sentence_rate": round(document_repeated_sentence_rate(delivered), 4),
        "cross_section_repeated_sentence_rate": round(cross_section_repeated_sentence_rate(sections), 4),
        "gibberish_rate": round(gibberish_rate(delivered), 4),
        "section_count": len(sections),
    }
    if embed is not None and whole.strip():
        vectors = embed_long(embed, [brief, *sections])
        to_brief = brief_similarity(vectors[0], vectors[1:])
        adjacent = adjacent_similarity(vectors[1:])
        for i, record in enumerate(per_section):
            record["brief_similarity"] = to_brief[i]
            record["adjacent_similarity"] = adjacent[i - 1] if i else None
        figures["brief_similarity"] = round(fmean(to_brief), 4)
        figures["drift"] = round(1 - fmean(to_brief), 4)
        figures["adjacent_similarity"] = round(fmean(adjacent), 4) if adjacent else None
    figures["sections"] = per_section
    return figures


def _sections_of(row: dict[str, Any], document: Document | None) -> list[str]:
    if document is not None:
        return [s.text for s in document.sections]
    return [body for _, body in split_markdown_sections(row["response"])]


def _adherence(document: Document, response: str) -> dict[str, float]:
    headings = [title for title, _ in split_markdown_sections(response)]
    result = plan_adherence(
        [s.target_words for s in document.sections],
        [s.words for s in document.sections],
        [s.title for s in document.plan.sections],
        headings,
    )
    return {k: round(v, 4) for k, v in vars(result).items()}


def _load_document(run_dir: Path, row: dict[str, Any]) -> Document | None:
    """The agent's sidecar of a prediction with text, when the run kept one."""
    path = run_dir / DOCUMENTS / f"{row['key']}.json"
    if not isinstance(row.get("response"), str) or not path.exists():
        return None
    data = json.loads(path.read_text("utf-8"))
    return Document.model_validate({**data, "markdown": ""})


def _judge_id(key: str, response: str, judge_name: str) -> str:
    return hashlib.sha256(f"{key}\n{judge_name}\n{response}".encode()).hexdigest()[:16]


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


async def _judge_all(
    rows: list[dict[str, Any]],
    run_dir: Path,
    model: ChatModel,
    concurrency: int,
    attempts: int,
    max_context: int | None,
    on_item: Callable[[ScoreProgress], None] | None = None,
) -> tuple[dict[str, dict[str, Any]], list[Failure]]:
    """Ratings by key (from the cache or the judge) and the items the judge failed on.

    ``max_context`` is the judge's window in tokens (default: what its server reports);
    responses too long for it are cut in the middle."""
    cache_path = run_dir / JUDGEMENTS
    cache = {r["id"]: r for r in read_jsonl(cache_path, repair=True)}  # a crash may tear its last line
    structured = model.capabilities.structured_output
    # asking for the window resolves a server's model name, which keys the cache: a
    # placeholder name would let another model's ratings pass for this one's
    window = await model.context_window()
    max_context = window if max_context is None else max_context
    semaphore = asyncio.Semaphore(concurrency)
    found: dict[str, dict[str, Any]] = {}
    failures: list[Failure] = []

    def tell(key: str, _task: object = None) -> None:
        if on_item:
            on_item(ScoreProgress(key, "judge", len(found) + len(failures), len(failures), len(rows)))

    with cache_path.open("a", encoding="utf-8") as out:

        async def one(row: dict[str, Any]) -> None:
            ident = _judge_id(row["key"], row["response"], model.name)
            if ident in cache:
                found[row["key"]] = cache[ident]
                return
            async with semaphore:
                try:
                    verdict = await judge(
                        model,
                        row["prompt"],
                        row["response"],
                        attempts=attempts,
                        structured=structured,
                        max_context=max_context,
                    )
                except JudgeError as exc:
                    failures.append(Failure(key=row["key"], reason=str(exc)))
                    return
            record = {
                "id": ident,
                "key": row["key"],
                "judge": model.name,
                "ratings": verdict.ratings,
                "attempts": verdict.attempts,
                "truncated": verdict.truncated,
            }
            append_jsonl(out, record)
            found[row["key"]] = record

        async with asyncio.TaskGroup() as group:
            for row in rows:
                if isinstance(row.get("response"), str):
                    group.create_task(one(row)).add_done_callback(partial(tell, row["key"]))
                else:
                    failures.append(Failure(key=row["key"], reason="no response text to judge"))
                    tell(row["key"])
    return found, failures


def _mean_by(items: Iterable[ItemScore], group_of: Callable[[ItemScore], str]) -> dict[str, LengthGroup]:
    """Mean S_l of the items in each group, by group name.

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
        await _judge_all(rows, run_dir, judge_model, concurrency, attempts, judge_max_context, on_item)
        if judge_model
        else ({}, [])
    )
    items = []
    for row in rows:
        items.append(score_item(row, _load_document(run_dir, row), judged.get(row["key"]), embed, topic))
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


def _run_failures(run_dir: Path, predicted: set[str]) -> list[Failure]:
    """The prompts ``failures.jsonl`` lists that have no prediction (a resumed run may have
    answered a prompt that failed before)."""
    if not (run_dir / FAILURES).exists():
        return []
    return [
        Failure(key=row["key"], reason=row.get("reason", ""))
        for _, row in read_numbered_jsonl(run_dir / FAILURES)
        if row.get("key") not in predicted
    ]


def _run_record(run_dir: Path) -> dict[str, Any]:
    """The run folder's ``run.json`` ({} for a bare predictions file)."""
    path = run_dir / RUN_FILE
    return json.loads(path.read_text("utf-8")) if path.exists() else {}


def score_item(
    row: dict[str, Any],
    document: Document | None,
    judged: dict[str, Any] | None,
    embed: Embedder | None,
    topic: TopicScorer | None = None,
) -> ItemScore:
    """One prediction's figures; the agent's ``document`` (its sidecar) adds plan adherence
    and gives the sections, else they are the response's Markdown sections. ``topic``
    scores the on-topic share (default: the lexical scorer).

    >>> row = {"key": "k", "prompt": "Write 100 words on tea.", "length": 100, "response_length": 130}
    >>> item = score_item(row, None, None, None)
    >>> item.s_l, item.bucket, item.language, item.coherence
    (90.0, '[0,500)', 'en', None)
    """
    has_text = isinstance(row.get("response"), str)
    produced = count_words(row["response"]) if has_text else row["response_length"]
    item = ItemScore(
        key=row["key"],
        type=row.get("type", ""),
        length=row["length"],
        response_length=produced,
        s_l=round(length_score(row["length"], produced), 4),
        bucket=bucket_of(row["length"]),
        language=brief_language(row["prompt"]).code,
    )
    if has_text:
        item.coherence = text_figures(row["prompt"], _sections_of(row, document), embed, row["response"])
        item.brief_checks = response_figures(row["prompt"], row["response"], topic or LexicalScorer())
        if document is not None:
            item.plan = _adherence(document, row["response"])
    if judged is not None:
        item.ratings, item.judge_truncated = judged["ratings"], judged["truncated"]
    return item


def aggregate(
    items: Sequence[ItemScore],
    run_failures: Sequence[Failure],
    run: dict[str, Any],
    judge: tuple[str, list[Failure]] | None,
    topic: TopicScorer | None = None,
) -> RunScore:
    """A run's figures from its items' (no files read or written): S_l overall, with the
    run's failed prompts as 0, by bucket, type and language; mean coherence and plan
    adherence; the brief figures and the mean position curve, with the name and threshold
    of the ``topic`` scorer that gave them (default: the lexical scorer); with a ``judge``
    (its name, the items it failed on), S_q and the overall score.

    >>> item = partial(ItemScore, type="essay", length=100, response_length=100, language="en")
    >>> items = [item(key="a", s_l=90.0, bucket="[0,500)"), item(key="b", s_l=60.0, bucket="[0,500)")]
    >>> score = aggregate(items, [Failure(key="c", reason="plan failed")], {}, None)
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


def score_run(run_dir: Path, judge_model: ChatModel | None = None, **kwargs: Any) -> RunScore:
    """Synchronous twin of ``ascore_run`` (same arguments)."""
    return run_sync(lambda: ascore_run(run_dir, judge_model, **kwargs))


__all__ = [
    "ITEM_SCORES",
    "SCORES",
    "Failure",
    "ItemScore",
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
