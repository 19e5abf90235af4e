"""``agentwrite dataset build --ray``: the same build as a Ray Data job.

The driver (this process) starts the session as a local build does: it reads the
instructions, repairs the outputs of an interrupted build and skips its finished ids. The
instructions left become a Ray dataset of one block each, mapped by a fixed pool of actors:
each actor holds one model client (``make_model`` of the settings it is given) and writes
its documents with the local build's ``write_document``, at most ``concurrency`` at once on its
event loop. Every outcome comes back with its instruction's id as soon as it is written,
and the driver checks near-duplicates and commits it through the same ``Committer`` and
``Journal``, so the output files are those of a local build. Ray restarts a killed actor
and runs its documents again, from their checkpoints under ``OUT/runs``; an id is committed
once, whatever comes back twice. Ray is imported here only, when a build starts.
"""

from __future__ import annotations

import asyncio
import logging
import os
import pickle
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from agentwrite.dataset.committer import BuildProgress
from agentwrite.dataset.document import RUNS, Outcome, write_document
from agentwrite.dataset.filters import token_counter
from agentwrite.dataset.instructions import Instruction
from agentwrite.dataset.journal import Journal
from agentwrite.dataset.recipe import Recipe
from agentwrite.dataset.session import Session, finish_session, open_session, record_session
from agentwrite.dataset.shards import Shard
from agentwrite.errors import InputError, ServerUnreachable
from agentwrite.files.run_folder import clear_run_dir
from agentwrite.llm.factory import check_backend, make_model
from agentwrite.settings import Settings

log = logging.getLogger(__name__)

RAY_EXTRA = "pip install 'agentwrite[ray]'"
LOCAL = "local"
"""The ``address`` that starts a cluster of this machine alone, for one build."""

_INSTRUCTION, _OUTCOME = "instruction", "outcome"


def import_ray(address: str) -> ModuleType:
    """Ray, with Ray Data; InputError in one line when the ``ray`` extra is missing.

    For a ``local`` cluster it first makes Ray bind to loopback (the cluster is this
    machine's alone) and report no usage statistics; both are read when Ray is imported.
    """
    if address == LOCAL:
        os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")  # 0: node address 127.0.0.1
        os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    try:
        import ray
        import ray.data  # Ray without its data extra lacks pandas and pyarrow
    except ImportError:
        raise InputError(f"--ray needs Ray Data, which is not installed: {RAY_EXTRA}") from None
    return ray


@dataclass(frozen=True)
class _Unreachable:
    """What an actor sends back instead of an outcome when the server cannot be reached
    (``ServerUnreachable`` itself does not unpickle: its ``__init__`` takes two arguments)."""

    url: str
    message: str

    def error(self) -> ServerUnreachable:
        error = ServerUnreachable(self.url, "")
        error.args = (self.message,)
        return error


class _Writer:
    """A Ray Data actor: writes the documents of the batches it is given, ``concurrency`` at once."""

    def __init__(self, settings: Settings, recipe: Recipe, runs: str, session: str, concurrency: int) -> None:
        self.settings, self.recipe, self.runs, self.session = settings, recipe, Path(runs), session
        self.model = make_model(settings)
        self.tokens = token_counter(recipe.tokenizer)
        self.slots = asyncio.Semaphore(concurrency)

    async def __call__(self, batch: dict[str, Any]) -> dict[str, list[Any]]:
        items: list[Instruction] = [pickle.loads(data) for data in batch[_INSTRUCTION]]
        results = await asyncio.gather(*(self._write(item) for item in items))
        return {"id": [item.id for item in items], _OUTCOME: results}

    async def _write(self, item: Instruction) -> bytes:
        async with self.slots:
            try:
                outcome = await write_document(
                    item,
                    model=self.model,
                    settings=self.settings,
                    recipe=self.recipe,
                    tokens=self.tokens,
                    runs=self.runs,
                    session=self.session,
                )
            except ServerUnreachable as exc:
                return pickle.dumps(_Unreachable(exc.url, str(exc)))
        return pickle.dumps(outcome)


def _connect(ray: ModuleType, address: str) -> bool:
    """Start or join the cluster unless this process already has one; True when it did."""
    if ray.is_initialized():
        return False
    quiet = logging.DEBUG if log.isEnabledFor(logging.DEBUG) else logging.ERROR
    try:
        if address == LOCAL:
            ray.init(address=LOCAL, include_dashboard=False, logging_level=quiet)
        else:
            ray.init(address=address, logging_level=quiet)
    except ConnectionError as exc:
        raise InputError(f"--ray {address}: cannot join a Ray cluster there: {exc}") from None
    logging.getLogger("ray.data").setLevel(quiet)
    return True


def _outcomes(
    ray: ModuleType, start: Session, out_dir: Path, settings: Settings, recipe: Recipe, actors: int
) -> Iterator[tuple[str, bytes]]:
    """Each instruction left, written by the actors: its id and its pickled outcome, in the
    order they finish."""
    context = ray.data.DataContext.get_current()
    context.enable_progress_bars = False
    rows = [{"id": item.id, _INSTRUCTION: pickle.dumps(item)} for item in start.todo]
    dataset = ray.data.from_items(rows, override_num_blocks=len(rows))  # a block each: back once written
    pool = ray.data.ActorPoolStrategy(
        size=actors,
        max_tasks_in_flight_per_actor=recipe.concurrency,
        max_concurrent_calls_per_actor=recipe.concurrency,
    )
    writer_args = {
        "settings": settings,
        "recipe": recipe,
        "runs": str(out_dir / RUNS),
        "session": start.started_at,
        "concurrency": recipe.concurrency,
    }
    # Ray Data restarts a dead actor and retries its tasks (max_restarts and
    # max_task_retries are -1 for actor pools by default).
    written = dataset.map_batches(
        _Writer, batch_size=1, compute=pool, num_cpus=1, fn_constructor_kwargs=writer_args
    )
    for row in written.iter_rows():
        yield row["id"], row[_OUTCOME]


def build_dataset_ray(
    instructions_path: Path,
    out_dir: Path,
    settings: Settings | None = None,
    *,
    recipe: Recipe | None = None,
    limit: int | None = None,
    on_event: Callable[[BuildProgress], None] | None = None,
    shard: Shard | None = None,
    address: str = LOCAL,
    actors: int | None = None,
) -> dict[str, Any]:
    """``build_dataset`` as a Ray Data job; the same outputs, the same resumption.

    ``address`` is Ray's: ``local`` starts a cluster of this machine for this build,
    ``auto`` joins the one ``ray start`` runs here, ``HOST:PORT`` that one; a process that
    is connected already uses its cluster. ``actors`` (default: one per node) each write
    ``recipe.concurrency`` documents at once.
    """
    ray = import_ray(address)
    recipe = recipe or Recipe()
    settings = settings or Settings()
    out_dir = Path(out_dir).resolve()  # the actors' working folder is not ours
    check_backend(settings)
    start = open_session(instructions_path, out_dir, settings, recipe, limit, shard)
    token_counter(recipe.tokenizer)  # a bad tokenizer fails here, before a cluster starts
    connected_here = _connect(ray, address)
    started = time.monotonic()
    try:
        record_session(out_dir, instructions_path, settings, recipe, start.started_at, shard)
        with Journal(out_dir) as journal:
            committer = start.committer(journal, out_dir, recipe, on_event)
            if start.todo:
                pool = actors or sum(1 for node in ray.nodes() if node["Alive"])
                committed = {record["id"] for record in start.committed}
                for doc_id, data in _outcomes(ray, start, out_dir, settings, recipe, pool):
                    if doc_id in committed:  # a task Ray ran twice
                        log.warning("%s came back twice; committed once", doc_id)
                        if not recipe.keep_runs:  # the second run wrote its folder again
                            clear_run_dir(out_dir / RUNS / doc_id)
                        continue
                    outcome: Outcome | _Unreachable = pickle.loads(data)
                    if isinstance(outcome, _Unreachable):
                        raise outcome.error()  # the server is gone: stop, as a local build does
                    committer.commit(outcome)
                    committed.add(doc_id)
    finally:
        if connected_here:
            ray.shutdown()
    log.info("build session finished in %.1f s", time.monotonic() - started)
    return finish_session(out_dir, start.started_at)
