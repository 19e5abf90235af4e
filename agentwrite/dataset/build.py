"""Build a LongWriter-style SFT dataset: one agent-written document per instruction.

Many documents are in flight at once (``concurrency``), all through one model client, so
a server's continuous batching stays full. Each document is an ``agentwrite.runner.awrite``
run with its own checkpointed run folder, so a restarted build reuses the finished
sections of the documents it was writing. Finished ids are skipped on restart; the output
files are kept whole by ``agentwrite.dataset.journal``.

With ``pairs`` or ``document_pairs`` in the recipe, each accepted document brings its
preference pairs (``agentwrite.dataset.pairs``) into ``pairs.jsonl``, committed with its
training example: a document rejected later (a near-duplicate) takes its pairs with it.

This module runs the workers; one document is ``agentwrite.dataset.document``, the one
writer ``agentwrite.dataset.committer``, a session's bookkeeping ``agentwrite.dataset.session``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from agentwrite.dataset.committer import BuildProgress
from agentwrite.dataset.document import RUNS, write_document
from agentwrite.dataset.filters import token_counter
from agentwrite.dataset.journal import Journal
from agentwrite.dataset.recipe import Recipe
from agentwrite.dataset.session import finish_session, open_session, record_session
from agentwrite.dataset.shards import Shard
from agentwrite.errors import ServerUnreachable
from agentwrite.llm.base import ChatModel
from agentwrite.llm.factory import make_model
from agentwrite.settings import Settings
from agentwrite.sync import run_sync

log = logging.getLogger(__name__)


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
    start = open_session(instructions_path, out_dir, settings, recipe, limit, shard)
    tokens = token_counter(recipe.tokenizer)

    own_model = model is None
    model = model or make_model(settings)
    pending = iter(start.todo)  # shared by the workers: each item is taken once
    record_session(out_dir, instructions_path, settings, recipe, start.started_at, shard)
    started = time.monotonic()
    try:
        with Journal(out_dir) as journal:
            committer = start.committer(journal, out_dir, recipe, on_event)

            async def worker() -> None:
                for item in pending:
                    outcome = await write_document(
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
