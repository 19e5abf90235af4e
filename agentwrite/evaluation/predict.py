"""Answer the prompts of a suite, directly or through the agent, into predictions: the core of
``agentwrite eval run``.

Output folder layout:

- ``predictions.jsonl``: one line per finished prompt: the suite's fields, ``key``,
  ``response``, ``response_length`` (LongBench-Write's names), then ``target``, ``model``,
  ``seconds``, ``finish_reason`` and ``usage`` (agent runs: also ``sections`` and ``mode``);
- ``failures.jsonl``: one line per failed attempt with its reason (never a prediction);
- ``documents/<key>.json``: the agent's sidecar (plan, sections) for plan adherence;
- ``work/<key>/``: the agent's checkpoints, so an interrupted document continues;
- ``run.json``: what was run (target, model, suite, the agent's mode or modes).

A run resumes: prompts already in ``predictions.jsonl`` are skipped, failed ones retried.
Lines are written whole and flushed by the one coroutine that owns each file.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TextIO

from pydantic import BaseModel, Field

from agentwrite.domain import Usage, endpoint_totals
from agentwrite.errors import AgentwriteError, InputError, ServerUnreachable
from agentwrite.evaluation.suites import SuiteItem, load_suite
from agentwrite.files import append_jsonl, read_jsonl, write_json
from agentwrite.files.output_paths import output_folder
from agentwrite.files.run_folder import RUN_FILE
from agentwrite.graph.context import WriteContext
from agentwrite.length import count_words
from agentwrite.llm.base import ChatModel, GenerationParams, Message
from agentwrite.llm.context_window import output_room
from agentwrite.llm.factory import make_model
from agentwrite.llm.scheduling import CURRENT_DOCUMENT, DocumentTicket
from agentwrite.settings import Settings
from agentwrite.sync import run_sync

log = logging.getLogger(__name__)

Target = Literal["agentwrite", "direct"]

PREDICTIONS = "predictions.jsonl"
FAILURES = "failures.jsonl"
DOCUMENTS = "documents"
DIRECT_MAX_TOKENS = 32_768
"""LongBench-Write's ``max_new_tokens`` for a direct answer; lowered to fit the context."""


@dataclass(frozen=True)
class SuiteSummary:
    """What one call of ``run_suite`` did."""

    total: int
    skipped: int
    done: int
    failed: int
    out_dir: Path


@dataclass(frozen=True)
class SuiteProgress:
    """Sent to ``on_item`` after each prompt: its key and ``outcome`` ("done" or "failed"),
    the prompts ``answered`` so far (earlier calls' too) and ``failed`` in this call, of
    ``total``, and ``tokens``, the completion tokens of its answer (0 for a failure)."""

    key: str
    outcome: str
    answered: int
    failed: int
    total: int
    tokens: int = 0


def finished_keys(path: Path) -> set[str]:
    """Keys of the predictions already written. A torn last line (a crash mid-write) is
    cut off so that appending continues on a clean line."""
    keys = set()
    for number, record in enumerate(read_jsonl(path, repair=True), start=1):
        if "key" not in record:
            raise InputError(f"{path}:{number}: not a prediction line; cannot resume")
        keys.add(record["key"])
    return keys


def _is_run_folder(folder: Path) -> bool:
    """Whether ``folder`` holds an eval run (its ``run.json`` or ``predictions.jsonl``)."""
    return (folder / RUN_FILE).is_file() or (folder / PREDICTIONS).is_file()


def _check_run_file(out_dir: Path, record: dict[str, Any]) -> None:
    """Write ``run.json``, or check that a resumed run has the same target and suite.

    An agent run resumed in another mode is allowed (a slow engine may need ``parallel``
    for the longest prompts) but never hidden: ``run.json`` then lists every mode used,
    and each prediction line names its own.
    """
    path = out_dir / RUN_FILE
    if path.exists():
        old = json.loads(path.read_text("utf-8"))
        for field in ("target", "suite"):
            if old.get(field) != record[field]:
                raise InputError(
                    f"{out_dir} holds a run with {field} {old.get(field)!r}, not {record[field]!r}; "
                    "use another output folder"
                )
        modes = str(old.get("mode") or "").split(", ")
        if record["target"] == "agentwrite" and record["mode"] not in modes:
            log.warning(
                "%s ran in mode %s; these prompts run in mode %s", out_dir, old.get("mode"), record["mode"]
            )
            write_json(path, old | {"mode": ", ".join([*filter(None, modes), record["mode"]])})
        return
    write_json(path, record)


def _record_model(out_dir: Path, name: str) -> None:
    """Put the model's name into ``run.json`` (a stopped run keeps it too)."""
    path = out_dir / RUN_FILE
    write_json(path, json.loads(path.read_text("utf-8")) | {"model": name})


def _figures(ticket: DocumentTicket) -> dict[str, dict[str, int]]:
    return {url: usage.model_dump() for url, usage in ticket.endpoints.items()}


def _record_endpoints(out_dir: Path) -> None:
    """Put what each server did, over every prediction and failure so far, into ``run.json``."""
    rows = [*read_jsonl(out_dir / PREDICTIONS), *read_jsonl(out_dir / FAILURES)]
    path = out_dir / RUN_FILE
    write_json(path, json.loads(path.read_text("utf-8")) | {"endpoints": endpoint_totals(rows)})


class Answer(BaseModel):
    """What a target made of one prompt: the text, and what it took."""

    response: str
    finish_reason: str
    usage: Usage
    sections: int | None = Field(None, description="Agent runs: the document's sections.")
    mode: str | None = Field(None, description="Agent runs: the write mode it ran in.")


class Prediction(Answer):
    """A line of ``predictions.jsonl`` after the suite's own fields (LongBench-Write's
    ``response`` and ``response_length`` among them)."""

    key: str
    response_length: int
    target: Target
    model: str
    seconds: float
    endpoints: dict[str, dict[str, int]]


class PromptFailure(BaseModel):
    """A line of ``failures.jsonl`` (the suite's fields follow the key)."""

    key: str
    error: str
    reason: str
    endpoints: dict[str, dict[str, int]]


async def direct_answer(prompt: str, ctx: WriteContext) -> Answer:
    """One answer to the prompt as it stands, as LongBench-Write asks for it: up to
    ``DIRECT_MAX_TOKENS``, fewer where the window (the prompt counted as the agent counts
    it, refitted when the server refuses it) leaves less. The ``direct`` target, and the
    answer a document pair of a dataset build sets against the agent's document."""

    def request() -> tuple[list[Message], GenerationParams]:
        messages: list[Message] = [{"role": "user", "content": prompt}]
        room = output_room(ctx.max_context, messages, DIRECT_MAX_TOKENS, ctx.gauge)
        return messages, GenerationParams.of(
            ctx.settings.decoding_for("writer"), room, seed=ctx.settings.seed
        )

    _, completion = await ctx.complete(request)
    return Answer(response=completion.text, finish_reason=completion.finish_reason, usage=completion.usage)


async def _agent(item: SuiteItem, ctx: WriteContext, out_dir: Path) -> Answer:
    from agentwrite.runner import awrite

    doc = await awrite(
        item.prompt,
        settings=ctx.settings,
        model=ctx.model,
        words=item.length,
        run_dir=out_dir / "work" / item.key,
        resume=True,
    )
    write_json(out_dir / DOCUMENTS / f"{item.key}.json", doc.sidecar())
    return Answer(
        response=doc.markdown,
        finish_reason="stop" if all(s.finish_reason == "stop" for s in doc.sections) else "length",
        usage=doc.usage,
        sections=len(doc.sections),
        mode=doc.mode,
    )


@dataclass
class _SuiteRun:
    """One call of ``arun_suite`` while it runs: where its lines go and what it has done."""

    item_count: int
    skipped: int
    out_dir: Path
    target: Target
    ctx: WriteContext
    predictions: TextIO
    failures: TextIO
    on_item: Callable[[SuiteProgress], None] | None
    done: int = 0
    failed: int = 0
    unreachable: asyncio.Event = field(default_factory=asyncio.Event)

    async def answer(self, item: SuiteItem, slots: asyncio.Semaphore) -> None:
        """Answer one prompt and write its line; an unreachable server stops the run."""
        CURRENT_DOCUMENT.set(ticket := DocumentTicket())  # this task's own context
        async with slots:
            if self.unreachable.is_set():
                return
            started = time.monotonic()
            try:
                if self.target == "direct":
                    answer = await direct_answer(item.prompt, self.ctx)
                else:
                    answer = await _agent(item, self.ctx, self.out_dir)
            except ServerUnreachable:
                self.unreachable.set()
                raise
            except AgentwriteError as exc:
                log.warning("prompt %s failed: %s", item.key, exc)
                failure = PromptFailure(
                    key=item.key, error=type(exc).__name__, reason=str(exc), endpoints=_figures(ticket)
                )
                line = failure.model_dump()
                append_jsonl(self.failures, {"key": line.pop("key"), **item.fields(), **line})
                self.failed += 1
                self._tell(item.key, "failed")
                return
        prediction = Prediction(
            **answer.model_dump(),
            key=item.key,
            response_length=count_words(answer.response),
            target=self.target,
            model=self.ctx.model.name,
            seconds=round(time.monotonic() - started, 3),
            endpoints=_figures(ticket),
        )
        append_jsonl(self.predictions, {**item.fields(), **_line_order(prediction)})
        if self.done == 0:  # a server's model name is known after the first answer
            _record_model(self.out_dir, self.ctx.model.name)
        self.done += 1
        self._tell(item.key, "done", answer.usage.completion_tokens)

    def _tell(self, key: str, outcome: str, tokens: int = 0) -> None:
        if self.on_item:
            answered = self.skipped + self.done
            self.on_item(SuiteProgress(key, outcome, answered, self.failed, self.item_count, tokens))


def _line_order(prediction: Prediction) -> dict[str, Any]:
    """A prediction as its line writes it: LongBench-Write's fields first, then what it took."""
    record = prediction.model_dump(exclude_none=True)
    first = ("key", "response", "response_length", "target", "model", "seconds", "finish_reason", "usage")
    return {name: record.pop(name) for name in first} | record


async def arun_suite(
    suite_path: Path,
    out_dir: Path,
    target: Target,
    settings: Settings,
    model: ChatModel | None = None,
    *,
    concurrency: int = 4,
    limit: int | None = None,
    on_item: Callable[[SuiteProgress], None] | None = None,
) -> SuiteSummary:
    """Run every prompt of the suite (the first ``limit`` with ``limit``) not yet predicted.

    ``concurrency`` prompts run at once, those with the longest required length first. A
    prompt that fails goes to ``failures.jsonl``;
    an unreachable server stops the run (what is written stays). ``on_item`` hears a
    ``SuiteProgress`` after each prompt, for progress display.
    """
    if target not in ("agentwrite", "direct"):
        raise InputError(f"unknown target {target!r}; use 'agentwrite' or 'direct'")
    if concurrency < 1:
        raise InputError("concurrency must be at least 1")
    if limit is not None and limit < 1:
        raise InputError(f"limit must be a positive number of prompts, not {limit}")
    output_folder(out_dir, "run folder", _is_run_folder, ", or a run to continue")
    items = load_suite(suite_path)[:limit]
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / DOCUMENTS).mkdir(exist_ok=True)
    done_keys = finished_keys(out_dir / PREDICTIONS)
    # Longest first: the longest documents take longest, so starting them last would leave
    # them running alone at the end of the run (longest-processing-time-first scheduling).
    todo = sorted((item for item in items if item.key not in done_keys), key=lambda i: -i.length)
    name = model.name if model is not None else settings.model
    _check_run_file(
        out_dir, {"target": target, "suite": str(suite_path.resolve()), "model": name, "mode": settings.mode}
    )
    own_model = model is None
    model = model or make_model(settings)
    try:
        max_context = settings.max_context or (await model.context_window() if todo else None)
        ctx = WriteContext(model=model, settings=settings, max_context=max_context)
        with (
            (out_dir / PREDICTIONS).open("a", encoding="utf-8") as predictions,
            (out_dir / FAILURES).open("a", encoding="utf-8") as failures,
        ):
            run = _SuiteRun(
                len(items), len(items) - len(todo), out_dir, target, ctx, predictions, failures, on_item
            )
            slots = asyncio.Semaphore(concurrency)
            async with asyncio.TaskGroup() as group:
                for item in todo:
                    group.create_task(run.answer(item, slots))
    except* ServerUnreachable as group_error:
        raise group_error.exceptions[0] from None
    finally:
        if own_model:
            await model.aclose()
        _record_endpoints(out_dir)
    return SuiteSummary(len(items), run.skipped, run.done, run.failed, out_dir)


def run_suite(
    suite_path: Path,
    out_dir: Path,
    target: Target,
    settings: Settings,
    model: ChatModel | None = None,
    **kwargs: Any,
) -> SuiteSummary:
    """Synchronous twin of ``arun_suite`` (same arguments)."""
    return run_sync(lambda: arun_suite(suite_path, out_dir, target, settings, model, **kwargs))
