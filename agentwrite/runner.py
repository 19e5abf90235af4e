"""Run the workflow for one brief: the library core of ``agentwrite write``.

A run with a ``run_dir`` is checkpointed there (SQLite) after every step, so that a run
stopped at any point continues with ``resume=True`` from its last finished section. The run
holds its folder's lock while it runs (``agentwrite.files.run_folder.hold_run_dir``).
"""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
import os
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, NoReturn

import aiosqlite
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer
from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver
from langgraph.types import Command, Interrupt, StreamMode
from pydantic import ValidationError

from agentwrite.domain import Brief, Document, Plan, Section, SectionPlan, Usage
from agentwrite.errors import AgentwriteError, InputError
from agentwrite.events import EventSink, PlanReady, SectionDone, from_json, ignore
from agentwrite.files import write_json
from agentwrite.files.run_folder import CHECKPOINTS, OWN_FILES, RUN_FILE, hold_run_dir
from agentwrite.graph.build import RECURSION_LIMIT, WriteGraph, build_graph
from agentwrite.graph.context import WriteContext
from agentwrite.graph.nodes.plan import make_plan
from agentwrite.graph.nodes.review import Reviewer
from agentwrite.graph.state import WriteState, state_chunks
from agentwrite.length import count_words, resolve_target
from agentwrite.llm.base import ChatModel
from agentwrite.llm.decoding import ROLES
from agentwrite.llm.factory import make_model
from agentwrite.llm.profiles import for_model
from agentwrite.llm.scheduling import CURRENT_DOCUMENT, DocumentTicket, current_ticket
from agentwrite.material.assign import assign_material
from agentwrite.material.read import Chunk, fingerprint, load_material, source_ids
from agentwrite.plans import normalise_budgets, with_budgets
from agentwrite.settings import Settings, load_settings
from agentwrite.sync import run_sync
from agentwrite.writing.checks import load_word_lists

log = logging.getLogger(__name__)

_THREAD: RunnableConfig = {"configurable": {"thread_id": "document"}, "recursion_limit": RECURSION_LIMIT}
_SERDE = JsonPlusSerializer(allowed_msgpack_modules=[Brief, Plan, SectionPlan, Section, Usage, Chunk])
_PLAN_TOLERANCE = 0.10


def make_brief(instruction: str, target: int) -> Brief:
    """A validated Brief, or an InputError in one sentence."""
    try:
        return Brief(instruction=instruction, target_words=target)
    except ValidationError as exc:
        raise InputError(f"invalid brief: {exc.errors()[0]['msg'].removeprefix('Value error, ')}") from None


def resolve_plan_target(plan: Plan, words: int | None, ceiling: int) -> tuple[Plan, int]:
    """The target of a run with a user plan: the plan's own total, or ``words`` when the
    plan's budgets add up to within 10% of it (they are then scaled to it exactly)."""
    if words is None:
        return plan, resolve_target("", plan.total_words, ceiling)
    target = resolve_target("", words, ceiling)
    if abs(plan.total_words - target) > _PLAN_TOLERANCE * target:
        raise InputError(
            f"the plan's section budgets add up to {plan.total_words} words, but the target is {target}"
        )
    budgets = normalise_budgets([s.target_words for s in plan.sections], target, 1, target)
    return with_budgets(plan, budgets), target


@asynccontextmanager
async def _checkpointer(run_dir: Path | None) -> AsyncIterator[Any]:
    if run_dir is None:
        yield InMemorySaver(serde=_SERDE)
        return
    async with aiosqlite.connect(run_dir / CHECKPOINTS) as conn:
        # A commit waits for no flush to disk (about 12 ms each on this machine when busy; a
        # run commits a few times a step): a process killed loses nothing, a power cut at
        # most its last steps, and the file stays whole either way (SQLite's WAL).
        await conn.executescript("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;")
        yield AsyncSqliteSaver(conn, serde=_SERDE)


def _prepare_run_dir(
    run_dir: Path, brief: Brief, settings: Settings, resume: bool, chunks: Sequence[Chunk] = ()
) -> bool:
    """Check the run directory this process holds; True when it holds a run to continue. A
    run of the user's material records its fingerprint; a run continued with material given
    again must have been given the same (continued without, it keeps what its checkpoint holds)."""
    run_file = run_dir / RUN_FILE
    if not run_file.exists():
        # run.json is written before any checkpoint, so checkpoints without it are leftovers
        # (of a clean-up cut short): a new run must not inherit their sections.
        for stale in OWN_FILES:
            (run_dir / stale).unlink(missing_ok=True)
        record: dict[str, Any] = {"brief": brief.model_dump(mode="json"), "mode": settings.mode}
        if chunks:
            record["sources"] = fingerprint(chunks)
        write_json(run_file, record)
        return False
    if not resume:
        raise InputError(
            f"{run_dir} holds an earlier run; pass --resume to continue it, or use another run directory"
        )
    try:
        record = json.loads(run_file.read_text("utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise InputError(f"cannot read {run_file}: {exc}") from None
    if Brief.model_validate(record["brief"]) != brief:
        raise InputError(f"{run_dir} holds a run of a different brief or word target")
    if record["mode"] != settings.mode:
        raise InputError(
            f"{run_dir} holds a {record['mode']}-mode run; it cannot continue in {settings.mode} mode"
        )
    if chunks and record.get("sources") != fingerprint(chunks):
        raise InputError(f"{run_dir} holds a run of other source material; give the same --source files")
    return True


async def awrite(
    brief: str,
    *,
    settings: Settings | None = None,
    model: ChatModel | None = None,
    words: int | None = None,
    plan: Plan | None = None,
    run_dir: Path | None = None,
    resume: bool = False,
    on_event: EventSink | None = None,
    sources: Sequence[Path | str | Chunk] = (),
    review: Reviewer | None = None,
    wait_for_run_dir: bool = False,
) -> Document:
    """Plan and write one document for ``brief``.

    ``model`` defaults to the backend the settings name (closed again at the end);
    ``plan`` skips the planner; ``run_dir`` makes the run resumable; ``on_event``
    receives progress events; ``sources`` is the user's material to write from (files,
    read and split into chunks before anything else, or chunks already made): the plan
    gives each section its chunks, and each section is written with them in its prompt.
    ``review``: the run stops after the plan for it to accept, edit or replace the plan
    (given the interrupt's value, it returns the resume value: ``agentwrite.graph.nodes.review``).
    A ``run_dir`` another process is writing raises InputError, or is waited for when
    ``wait_for_run_dir`` (as a build's writers do).
    """
    settings = settings or load_settings()
    chunks = load_material(sources)
    if plan is not None:
        plan, target = resolve_plan_target(plan, words, settings.max_words)
        plan, _ = assign_material(plan, chunks, strict=True)
    else:
        target = resolve_target(brief, words, settings.max_words)
    the_brief = make_brief(brief, target)
    held = await hold_run_dir(run_dir, wait_for_run_dir) if run_dir is not None else None
    ticket = current_ticket() or DocumentTicket()  # a caller may hold one, to see it even if this fails
    entered = CURRENT_DOCUMENT.set(ticket)
    try:
        continuing = (
            _prepare_run_dir(run_dir, the_brief, settings, resume, chunks) if run_dir is not None else False
        )
        ticket.start(target)  # the section writers tell it of each section written
        emit = on_event or ignore
        listening = on_event is not None  # section text is streamed to on_event, else not sent
        return await _write(
            the_brief, settings, model, plan, run_dir, continuing, emit, chunks,
            stream_text=listening, reviewer=review,
        )  # fmt: skip
    finally:
        CURRENT_DOCUMENT.reset(entered)
        if held is not None:
            os.close(held)


async def _write(
    the_brief: Brief,
    settings: Settings,
    model: ChatModel | None,
    plan: Plan | None,
    run_dir: Path | None,
    continuing: bool,
    emit: EventSink,
    chunks: Sequence[Chunk] = (),
    *,
    stream_text: bool,
    reviewer: Reviewer | None = None,
) -> Document:
    started = time.monotonic()
    state: Mapping[str, Any]
    async with (
        write_context(settings, model, stream_text=stream_text) as ctx,
        _checkpointer(run_dir) as saver,
    ):
        graph = build_graph(settings.mode, saver, review=reviewer is not None)
        snapshot = await graph.aget_state(_THREAD)
        if continuing and reviewer is None and await _waits_for_review(settings, saver):
            raise InputError(f"{run_dir} holds a run waiting for its plan review: continue it with --review")
        if continuing and snapshot.values:
            _replay(snapshot.values, emit)
            if (plan := snapshot.values.get("plan")) is not None:
                ctx.check_budget.resume(snapshot.values.get("sections", []), plan.total_words)
            # "markdown" is the last node's output: without it the run is unfinished even when the
            # last saved step has no pending task (a cancelled run can leave such a checkpoint).
            unfinished = bool(snapshot.next) or "markdown" not in snapshot.values
            if unfinished:
                state = await _stream(graph, None, ctx, emit, reviewer, listening=stream_text)
            else:
                state = snapshot.values
        else:
            start = WriteState(brief=the_brief, plan_source="model")
            if plan is not None:  # else the plan node makes one
                emit(PlanReady(plan, "user"))
                start["plan"], start["plan_source"] = plan, "user"
            if chunks:
                start["chunks"] = list(chunks)
            state = await _stream(graph, start, ctx, emit, reviewer, listening=stream_text)
    return _document(state, ctx.model.name, settings, time.monotonic() - started, current_ticket())


async def _waits_for_review(settings: Settings, saver: BaseCheckpointSaver[Any]) -> bool:
    """Whether the checkpointed run stopped at its plan review (which a graph without the
    review cannot see)."""
    return "review" in (await build_graph(settings.mode, saver, review=True).aget_state(_THREAD)).next


async def aread_run(run_dir: Path) -> dict[str, Any]:
    """What a run folder's checkpoint holds: the state as of the last finished step (brief,
    plan, sections written, ...); empty when nothing was checkpointed yet. For looking into a
    stopped run, as ``--resume`` would find it.

    >>> import tempfile
    >>> run_sync(lambda: aread_run(Path(tempfile.mkdtemp())))
    {}
    """
    if not (run_dir / CHECKPOINTS).exists():
        return {}
    try:
        mode = json.loads((run_dir / RUN_FILE).read_text("utf-8"))["mode"]
    except (OSError, ValueError, KeyError) as exc:
        raise InputError(f"{run_dir} is not a run folder: {exc}") from None
    async with _checkpointer(run_dir) as saver:
        return dict((await build_graph(mode, saver, review=True).aget_state(_THREAD)).values)


async def aplan(
    brief: str,
    *,
    settings: Settings | None = None,
    model: ChatModel | None = None,
    words: int | None = None,
    sources: Sequence[Path | str | Chunk] = (),
) -> Plan:
    """Only the planning step: the plan a run of ``brief`` (with ``sources``) would write to."""
    settings = settings or load_settings()
    chunks = load_material(sources)
    the_brief = make_brief(brief, resolve_target(brief, words, settings.max_words))
    async with write_context(settings, model) as ctx:
        plan, _, _ = await make_plan(the_brief, ctx, chunks)
    return plan


@asynccontextmanager
async def write_context(
    settings: Settings, model: ChatModel | None, *, stream_text: bool = False
) -> AsyncIterator[WriteContext]:
    """The nodes' context for a run with ``settings``: ``model``, or one made from the settings
    (and closed afterwards); ``stream_text``: see ``WriteContext``."""
    own_model = model is None
    model = model or make_model(settings)
    try:
        # the word lists in a thread, beside the server's first answer: read inside the run's
        # event loop they would block it (a LangGraph server refuses that)
        lists = asyncio.create_task(asyncio.to_thread(load_word_lists))
        max_context = settings.max_context or await model.context_window()  # learns the model's name
        await lists
        yield WriteContext(
            model=model,
            settings=for_model(settings, model.name),
            max_context=max_context,
            structured_output=model.capabilities.structured_output,
            stream_text=stream_text,
        )
    finally:
        if own_model:
            await model.aclose()


run_context = write_context
"""The old name of ``write_context`` (the README's embedding example used it)."""


async def _stream(
    graph: WriteGraph,
    start: WriteState | None,
    ctx: WriteContext,
    emit: EventSink,
    reviewer: Reviewer | None,
    *,
    listening: bool,
) -> WriteState:
    """Run the graph from ``start`` (None: from its checkpoint), passing each interrupt (the
    plan review) to ``reviewer`` and resuming with its answer; return the final state.

    ``listening`` (someone takes the progress events): the events the nodes write to the
    custom stream go to ``emit``. Otherwise only the state is streamed: LangGraph can absorb
    a cancellation that lands while it streams custom events, and a job with no listener (a
    dataset build, an eval run) must stop when it is cancelled."""
    todo: WriteState | Command[Any] | None = start
    modes: list[StreamMode] = ["custom", "values"] if listening else ["values"]
    while True:
        state = WriteState()
        asked: tuple[Interrupt[Any], ...] = ()
        async for part in graph.astream(
            todo, _THREAD, context=ctx, durability="sync", stream_mode=modes, version="v2"
        ):
            if part["type"] == "values":
                state, asked = part["data"], part["interrupts"]
            elif part["type"] == "custom" and (event := from_json(part["data"])) is not None:
                emit(event)
        if not asked:
            if "markdown" not in state:  # the stream ended before the stitch
                await _stopped(graph)
            return state
        if reviewer is None:  # a graph built without the review asks nothing
            raise AssertionError(f"unexpected interrupt: {asked[0].value!r}")
        answer = reviewer(asked[0].value)
        todo = Command(resume=await answer if inspect.isawaitable(answer) else answer)


async def _stopped(graph: WriteGraph) -> NoReturn:
    """Raise for a stream that ended before the document was stitched: CancelledError when
    the checkpoint still has work (steps to run, or finished steps' writes to apply), as a
    cancellation LangGraph absorbed leaves it (the caller must see it), else an error."""
    task = asyncio.current_task()
    if (task is not None and task.cancelling()) or (await graph.aget_state(_THREAD)).tasks:
        raise asyncio.CancelledError  # tasks: steps to run, or finished ones' writes to apply
    raise AgentwriteError("the workflow ended without a document, and its checkpoint has no step left to run")


def _replay(values: dict[str, Any], emit: EventSink) -> None:
    """Tell the event sink, and the document's ticket, what a resumed run had already done."""
    plan = values.get("plan")
    if plan is None:
        return
    emit(PlanReady(plan, "resumed"))
    ticket = current_ticket()
    for section in values.get("sections", []):
        if ticket is not None:
            ticket.section_written(section.index, section.words)
        emit(SectionDone(section, len(plan.sections)))


def _document(
    state: Mapping[str, Any],
    model_name: str,
    settings: Settings,
    seconds: float,
    ticket: DocumentTicket | None,
) -> Document:
    sections: list[Section] = state["sections"]
    usage = sum(
        (s.usage for s in sections), state.get("plan_usage", Usage()) + state.get("sketch_usage", Usage())
    )
    return Document(
        brief=state["brief"],
        plan=state["plan"],
        plan_source=state["plan_source"],
        plan_repairs=state.get("plan_repairs", []),
        mode=settings.mode,
        model=model_name,
        decoding={role: settings.decoding_for(role).model_dump(exclude_none=True) for role in ROLES},
        sections=sections,
        markdown=state["markdown"],
        words=count_words(state["markdown"]),
        usage=usage,
        endpoints=dict(ticket.endpoints) if ticket is not None else {},
        sources=source_ids(state_chunks(state)),
        checks=settings.topic_scorer if settings.checks else None,
        wall_seconds=seconds,
    )


def write(brief: str, **kwargs: Any) -> Document:
    """Synchronous twin of ``awrite`` (same arguments); it works in a notebook too."""
    return run_sync(lambda: awrite(brief, **kwargs))
