"""A build session's bookkeeping: where it starts (the instructions left once an interrupted
build's outputs are repaired and its finished ids skipped), its record in ``build.json``,
and its end (what each server did, the stats)."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agentwrite.credentials import without_secrets
from agentwrite.dataset.committer import BuildProgress, Committer
from agentwrite.dataset.document import RUNS
from agentwrite.dataset.instructions import BadLine, Instruction, read_instructions
from agentwrite.dataset.journal import META, TRAIN, Journal, recover
from agentwrite.dataset.near_duplicates import NearDuplicateIndex
from agentwrite.dataset.recipe import Recipe
from agentwrite.dataset.records import timestamp
from agentwrite.dataset.shards import Shard, check_resume
from agentwrite.dataset.stats import write_stats
from agentwrite.domain import endpoint_totals
from agentwrite.errors import InputError
from agentwrite.files import read_jsonl, write_json
from agentwrite.files.output_paths import output_folder
from agentwrite.files.run_folder import clear_run_dir
from agentwrite.settings import Settings

log = logging.getLogger(__name__)

BUILD_FILE = "build.json"


def record_session(
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
class Session:
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
    ) -> Committer:
        """The session's one writer, once it has recorded the input lines that could not be used."""
        committer = Committer(
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
    file or a folder of the user's is refused (``agentwrite.files.output_paths``)."""
    return output_folder(out_dir, "build folder", is_build_folder, ", or a build to continue")


def open_session(
    instructions_path: Path,
    out_dir: Path,
    settings: Settings,
    recipe: Recipe,
    limit: int | None,
    shard: Shard | None,
) -> Session:
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
    started_at = timestamp()
    todo = [i for i in items if i.id not in finished]
    if limit is not None:
        todo = todo[:limit]
    index = _seed_index(out_dir, committed, recipe.filters.near_duplicate_threshold)
    log.info("%d instructions, %d finished before, %d to write", len(items), len(finished), len(todo))
    bad_left = [b for b in bad_lines if b.id not in finished]
    return Session(started_at, committed, todo, bad_left, len(items) + len(bad_lines), index)
