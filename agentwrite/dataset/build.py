"""Build a LongWriter-style SFT dataset: one agent-written document per instruction.

Many documents are in flight at once (``concurrency``), all through one model client, so
a server's continuous batching stays full. Each document is an ``agentwrite.runner.awrite``
run with its own checkpointed run folder, so a restarted build reuses the finished
sections of the documents it was writing. Finished ids are skipped on restart; the output
files are kept whole by ``agentwrite.dataset.journal``.

With ``pairs`` or ``document_pairs`` in the recipe, each accepted document brings its
preference pairs (``agentwrite.dataset.pairs``) into ``pairs.jsonl``, committed with its
training example: a document rejected later (a near-duplicate) takes its pairs with it.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from agentwrite.credentials import without_secrets
from agentwrite.dataset.filters import (
    REJECT_REASONS,
    NearDuplicateIndex,
    TokenCounter,
    Verdict,
    check_document,
    first_failure,
    token_counter,
)
from agentwrite.dataset.instructions import BadLine, Instruction, read_instructions
from agentwrite.dataset.journal import META, TRAIN, Journal, recover
from agentwrite.dataset.pairs import document_pair, section_pairs
from agentwrite.dataset.preference import PreferencePair
from agentwrite.dataset.recipe import Recipe
from agentwrite.dataset.records import BuildRecord
from agentwrite.dataset.shards import Shard, check_resume
from agentwrite.dataset.stats import write_stats
from agentwrite.decoding import ROLES
from agentwrite.domain import Document, endpoint_totals
from agentwrite.errors import (
    AgentwriteError,
    EmptySection,
    InputError,
    ModelError,
    PlanError,
    ServerUnreachable,
)
from agentwrite.files import read_jsonl, write_json
from agentwrite.llm.base import ChatModel
from agentwrite.llm.factory import make_model
from agentwrite.llm.scheduling import CURRENT_DOCUMENT, DocumentTicket
from agentwrite.output_paths import output_folder
from agentwrite.run_folder import clear_run_dir
from agentwrite.settings import Settings
from agentwrite.sync import run_sync

log = logging.getLogger(__name__)

RUNS = "runs"
BUILD_FILE = "build.json"


@dataclass(frozen=True)
class BuildProgress:
    """Sent to ``on_event`` after each committed instruction; ``tokens`` are the completion
    tokens its document took (0 when none was written)."""

    id: str
    status: str
    reason: str | None
    done: int
    accepted: int
    total: int
    tokens: int = 0


@dataclass
class _Outcome:
    item: Instruction
    meta: BuildRecord
    document: str | None = None
    reject: str | None = None
    detail: str = ""
    pairs: list[dict[str, Any]] = field(default_factory=list)
    """The document's ``pairs.jsonl`` lines, written only if it is accepted."""


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def _sampling(settings: Settings) -> dict[str, Any]:
    return {
        "mode": settings.mode,
        "decoding": {role: settings.decoding_for(role).model_dump(exclude_none=True) for role in ROLES},
        "seed": settings.seed,
        "min_tokens": settings.min_tokens,
        "tokens_per_word": settings.tokens_per_word,
        "max_section_words": settings.max_section_words,
        "min_section_words": settings.min_section_words,
    }


def _new_record(item: Instruction, session: str) -> BuildRecord:
    return BuildRecord(
        id=item.id,
        status="rejected",
        reason=None,
        type=item.type,
        language=item.language,
        requested_words=item.length,
        length_source=item.length_source,
        line=item.line,
        session=session,
    )


def _document_fields(doc: Document) -> dict[str, Any]:
    return {
        "model": doc.model,
        "plan_source": doc.plan_source,
        "plan": doc.plan.model_dump(mode="json"),
        "sections": [
            {
                "title": s.title,
                "target_words": s.target_words,
                "words": s.words,
                "finish_reason": s.finish_reason,
            }
            for s in doc.sections
        ],
        "usage": doc.usage.model_dump(mode="json"),
    }


async def _write_one(
    item: Instruction,
    *,
    model: ChatModel,
    settings: Settings,
    recipe: Recipe,
    tokens: TokenCounter,
    runs: Path,
    session: str,
) -> _Outcome:
    from agentwrite.runner import awrite  # here: merge, export and stats use this module without LangGraph

    meta = _new_record(item, session)
    meta.add(sampling=_sampling(settings), started_at=_now())
    started = time.monotonic()
    ticket = DocumentTicket()  # what each server did for this document, failed or not
    entered = CURRENT_DOCUMENT.set(ticket)
    try:
        doc = await awrite(
            item.prompt,
            settings=settings,
            model=model,
            words=item.length,
            run_dir=runs / item.id,
            resume=True,
        )
    except ServerUnreachable:
        raise  # the server is gone: stop the build rather than reject everything left
    except PlanError as exc:
        return _failed(meta, item, "plan failed", exc)
    except EmptySection as exc:
        return _failed(meta, item, "model wrote nothing usable", exc)
    except ModelError as exc:
        return _failed(meta, item, "server error after retries", exc)
    except InputError as exc:
        return _failed(meta, item, "bad input", exc)
    except AgentwriteError as exc:
        return _failed(meta, item, type(exc).__name__, exc)
    else:  # the one-request answer of document pairs counts in this document's endpoints too
        return await _checked(item, doc, meta, model=model, settings=settings, recipe=recipe, tokens=tokens)
    finally:
        CURRENT_DOCUMENT.reset(entered)
        meta.add(
            endpoints={url: u.model_dump() for url, u in ticket.endpoints.items()},
            seconds=round(time.monotonic() - started, 3),
            finished_at=_now(),
        )


async def _checked(
    item: Instruction,
    doc: Document,
    meta: BuildRecord,
    *,
    model: ChatModel,
    settings: Settings,
    recipe: Recipe,
    tokens: TokenCounter,
) -> _Outcome:
    """The outcome of a written document: the filters' verdicts and, when it passes them, its
    preference pairs as the recipe asks."""
    meta.add(**_document_fields(doc))
    verdicts, figures = await asyncio.to_thread(
        check_document,
        item.prompt,
        item.length,
        [s.text for s in doc.sections],
        doc.markdown,
        recipe.filters,
        tokens,
    )
    meta.add(**figures)
    meta.add(filters={v.name: v.as_json() for v in verdicts}, write_seconds=round(doc.wall_seconds, 3))
    failed = first_failure(verdicts)
    if failed is not None:
        return _Outcome(item, meta, reject=REJECT_REASONS[failed.name], detail=failed.detail())
    pairs = section_pairs(item.id, doc.sections, recipe.pair_margin) if recipe.pairs else []
    if recipe.document_pairs:
        pair = await _document_pair(item, doc.markdown, verdicts, meta, model, settings, recipe, tokens)
        pairs += [pair] if pair is not None else []
    return _Outcome(item, meta, document=doc.markdown, pairs=[p.model_dump(mode="json") for p in pairs])


async def _document_pair(
    item: Instruction,
    document: str,
    verdicts: list[Verdict],
    meta: BuildRecord,
    model: ChatModel,
    settings: Settings,
    recipe: Recipe,
    tokens: TokenCounter,
) -> PreferencePair | None:
    """Ask the one-request answer to the instruction, filter it as documents are filtered
    (its figures go into ``meta``'s ``one_request``) and pair it with the agent's document."""
    from agentwrite.evaluation.run import direct_answer  # LangGraph, as awrite
    from agentwrite.graph.context import RunContext

    try:
        max_context = settings.max_context or await model.context_window()
        answer = await direct_answer(item.prompt, RunContext(model, settings, max_context))  # as eval's
    except ServerUnreachable:
        raise
    except AgentwriteError as exc:
        log.warning("%s: no document pair: the one-request answer failed: %s", item.id, exc)
        meta.add(one_request={"error": str(exc)})
        return None
    answer_verdicts, figures = await asyncio.to_thread(
        check_document, item.prompt, item.length, [answer.response], answer.response, recipe.filters, tokens
    )
    meta.add(
        one_request={
            "words": figures["words"],
            "finish_reason": answer.finish_reason,
            "usage": answer.usage.model_dump(mode="json"),
            "failed": [v.name for v in answer_verdicts if not v.passed],
        }
    )
    return document_pair(item.id, item.prompt, document, answer.response, verdicts, answer_verdicts)


def _failed(meta: BuildRecord, item: Instruction, reason: str, exc: Exception) -> _Outcome:
    log.warning("%s: %s: %s", item.id, reason, exc)
    return _Outcome(item, meta, reject=reason, detail=str(exc))


class _Committer:
    """The one writer: checks near-duplicates against accepted documents, then commits."""

    def __init__(
        self,
        journal: Journal,
        index: NearDuplicateIndex,
        out_dir: Path,
        recipe: Recipe,
        accepted: int,
        done: int,
        total: int,
        on_event: Callable[[BuildProgress], None] | None,
    ) -> None:
        self.journal, self.index, self.out_dir, self.recipe = journal, index, out_dir, recipe
        self.accepted, self.done, self.total = accepted, done, total
        self.on_event = on_event

    def commit(self, outcome: _Outcome) -> None:
        meta, item = outcome.meta, outcome.item
        if outcome.document is not None:
            duplicate_of, similarity = self.index.add(item.id, outcome.document)
            passed = similarity < self.index.threshold
            verdict = Verdict("near_duplicate", round(similarity, 4), self.index.threshold, passed)
            meta.add(filters={**(meta.filters or {}), "near_duplicate": verdict.as_json()})
            meta.add(near_duplicate_of=duplicate_of)
            if not passed:
                outcome.reject, outcome.document = "duplicate", None
                outcome.detail = f"near-duplicate of {duplicate_of} (estimated Jaccard {similarity:.2f})"
        if outcome.document is not None:
            meta.accept()
            if outcome.pairs:
                meta.add(pairs=len(outcome.pairs))
            messages = [
                {"role": "user", "content": item.prompt},
                {"role": "assistant", "content": outcome.document},
            ]
            self.journal.commit(meta.line_json(), train={"messages": messages}, pairs=outcome.pairs)
            self.accepted += 1
        else:
            meta.reject(outcome.reject or "rejected")
            reject = {
                "id": item.id,
                "reason": outcome.reject,
                "detail": outcome.detail,
                "prompt": item.prompt,
                "length": item.length,
                "type": item.type,
            }
            self.journal.commit(meta.line_json(), reject=reject)
        self.done += 1
        if not self.recipe.keep_runs:
            clear_run_dir(self.out_dir / RUNS / item.id)
        self._progress(item.id, meta.status, meta.reason, meta.completion_tokens)

    def commit_bad_line(self, bad: BadLine, session: str) -> None:
        """Record an unusable input line as a reject."""
        meta = BuildRecord(
            id=bad.id, status="rejected", reason="bad input line", line=bad.line, session=session
        )
        reject = {
            "id": bad.id,
            "reason": "bad input line",
            "detail": bad.reason,
            "line": bad.line,
            "text": bad.text,
        }
        self.journal.commit(meta.line_json(), reject=reject)
        self.done += 1
        self._progress(bad.id, "rejected", "bad input line")

    def _progress(self, doc_id: str, status: str, reason: str | None, tokens: int = 0) -> None:
        if self.on_event is not None:
            self.on_event(BuildProgress(doc_id, status, reason, self.done, self.accepted, self.total, tokens))


def _record_session(
    out_dir: Path, instructions: Path, settings: Settings, recipe: Recipe, session: str, shard: Shard | None
) -> None:
    """Add this session's configuration to ``build.json`` (written atomically)."""
    path = out_dir / BUILD_FILE
    record = json.loads(path.read_text("utf-8")) if path.exists() else {"sessions": []}
    record["sessions"].append(
        {
            "started_at": session,
            "instructions": str(instructions),
            "settings": without_secrets(settings.model_dump(mode="json")),
            "recipe": without_secrets(recipe.model_dump(mode="json")),  # its settings may hold a key
            "shard": str(shard) if shard is not None else None,
        }
    )
    write_json(path, record)


def finish_session(out_dir: Path, session: str) -> dict[str, Any]:
    """Put what each server did in this session into its ``build.json`` record; write and
    return the build's stats."""
    path = out_dir / BUILD_FILE
    record = json.loads(path.read_text("utf-8"))
    this = [r for r in read_jsonl(out_dir / META) if r.get("session") == session]
    record["sessions"][-1]["endpoints"] = endpoint_totals(this)
    write_json(path, record)
    return write_stats(out_dir)


def _seed_index(out_dir: Path, committed: list[dict[str, Any]], threshold: float) -> NearDuplicateIndex:
    """The near-duplicate index over the documents already accepted."""
    index = NearDuplicateIndex(threshold)
    accepted_ids = [r["id"] for r in committed if r["status"] == "accepted"]
    for doc_id, example in zip(accepted_ids, read_jsonl(out_dir / TRAIN), strict=True):
        index.add(doc_id, example["messages"][-1]["content"])
    return index


@dataclass
class _Session:
    """Where a build session starts: what the folder holds already, and what is left to write."""

    started_at: str
    committed: list[dict[str, Any]]
    todo: list[Instruction]
    bad_lines: list[BadLine]
    total: int
    index: NearDuplicateIndex

    def committer(
        self,
        journal: Journal,
        out_dir: Path,
        recipe: Recipe,
        on_event: Callable[[BuildProgress], None] | None,
    ) -> _Committer:
        """The session's one writer, once it has recorded the input lines that could not be used."""
        committer = _Committer(
            journal,
            self.index,
            out_dir,
            recipe,
            accepted=sum(1 for r in self.committed if r["status"] == "accepted"),
            done=len(self.committed),
            total=self.total,
            on_event=on_event,
        )
        for bad in self.bad_lines:
            committer.commit_bad_line(bad, self.started_at)
        return committer


def _sweep_runs(runs: Path, finished: set[str]) -> None:
    """Remove the checkpoints of committed documents: a build stopped between a commit and
    its folder's removal leaves one behind (only what agentwrite wrote is removed)."""
    if runs.is_dir():
        for folder in runs.iterdir():
            if folder.name in finished:
                clear_run_dir(folder)


def is_build_folder(folder: Path) -> bool:
    """Whether ``folder`` holds a build (its ``build.json`` or ``meta.jsonl``)."""
    return (folder / BUILD_FILE).is_file() or (folder / META).is_file()


def build_folder(out_dir: Path) -> Path:
    """Check the folder a build writes for ``--out``: new, empty or a build to continue; a
    file or a folder of the user's is refused (``agentwrite.output_paths``)."""
    return output_folder(out_dir, "build folder", is_build_folder, ", or a build to continue")


def _open_session(
    instructions_path: Path,
    out_dir: Path,
    settings: Settings,
    recipe: Recipe,
    limit: int | None,
    shard: Shard | None,
) -> _Session:
    """Read the instructions, repair what an interrupted build left and skip its finished ids."""
    if limit is not None and limit < 1:
        raise InputError(f"limit must be a positive number of documents, not {limit}")
    items, bad_lines = read_instructions(instructions_path, max_words=settings.max_words)
    build_folder(out_dir)  # before anything is written
    check_resume(out_dir / BUILD_FILE, shard)
    if shard is not None:
        items, bad_lines = shard.select(items), shard.select(bad_lines)
    out_dir.mkdir(parents=True, exist_ok=True)
    committed = recover(out_dir)
    finished = {r["id"] for r in committed}
    if not recipe.keep_runs:
        _sweep_runs(out_dir / RUNS, finished)
    started_at = _now()
    todo = [i for i in items if i.id not in finished]
    if limit is not None:
        todo = todo[:limit]
    index = _seed_index(out_dir, committed, recipe.filters.near_duplicate_threshold)
    log.info("%d instructions, %d finished before, %d to write", len(items), len(finished), len(todo))
    bad_left = [b for b in bad_lines if b.id not in finished]
    return _Session(started_at, committed, todo, bad_left, len(items) + len(bad_lines), index)


async def abuild_dataset(
    instructions_path: Path,
    out_dir: Path,
    settings: Settings | None = None,
    model: ChatModel | None = None,
    *,
    recipe: Recipe | None = None,
    limit: int | None = None,
    on_event: Callable[[BuildProgress], None] | None = None,
    shard: Shard | None = None,
) -> dict[str, Any]:
    """Write, filter and record one document per instruction; return the build's stats.

    Restarting with the same arguments continues where an interrupted build stopped.
    ``model`` defaults to the backend ``settings`` name (and is closed at the end);
    ``limit`` caps how many new instructions this call starts; ``shard`` builds only
    that shard's instructions and bad lines (``agentwrite.dataset.shards``).
    """
    recipe = recipe or Recipe()
    settings = settings or Settings()
    out_dir = Path(out_dir)
    start = _open_session(instructions_path, out_dir, settings, recipe, limit, shard)
    tokens = token_counter(recipe.tokenizer)

    own_model = model is None
    model = model or make_model(settings)
    pending = iter(start.todo)  # shared by the workers: each item is taken once
    _record_session(out_dir, instructions_path, settings, recipe, start.started_at, shard)
    started = time.monotonic()
    try:
        with Journal(out_dir) as journal:
            committer = start.committer(journal, out_dir, recipe, on_event)

            async def worker() -> None:
                for item in pending:
                    outcome = await _write_one(
                        item,
                        model=model,
                        settings=settings,
                        recipe=recipe,
                        tokens=tokens,
                        runs=out_dir / RUNS,
                        session=start.started_at,
                    )
                    committer.commit(outcome)

            async with asyncio.TaskGroup() as group:
                for _ in range(min(recipe.concurrency, len(start.todo))):
                    group.create_task(worker())
    except* ServerUnreachable as group_error:
        raise group_error.exceptions[0] from None
    finally:
        if own_model:
            await model.aclose()
    log.info("build session finished in %.1f s", time.monotonic() - started)
    return finish_session(out_dir, start.started_at)


def build_dataset(
    instructions_path: Path, out_dir: Path, settings: Settings | None = None, **kwargs: Any
) -> dict[str, Any]:
    """Synchronous twin of ``abuild_dataset`` (same arguments); it works in a notebook too."""
    return run_sync(lambda: abuild_dataset(instructions_path, out_dir, settings, **kwargs))
