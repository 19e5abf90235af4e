"""Merge build folders (the shards of one build) into one build folder.

The sources' committed records are taken in the order the folders are given, each folder
in its commit order (the order of its ``meta.jsonl``). Rejects are copied as they are;
each accepted document goes through the build's own committer again
(``agentwrite.dataset.committer``), so that one near-duplicate index with the sources'
threshold sees all of them: a document that nearly repeats one accepted from an earlier
source becomes a ``duplicate`` reject, with its meta updated as a build would. An accepted
document's preference pairs (``pairs.jsonl``) go with it, and are dropped with it.

Everything is checked before anything is written: every source is a build folder, all
sessions of all sources used the same filters, no id is in two sources, the output folder
is new or empty. The merge is written into a hidden temporary folder beside the output
and renamed into place at the end, so an interrupted merge never leaves a half-written
output (only, after a kill, the hidden ``.OUT.*.merging`` folder).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from agentwrite.credentials import without_secrets
from agentwrite.dataset.committer import Committer
from agentwrite.dataset.document import Outcome
from agentwrite.dataset.filters import FilterConfig
from agentwrite.dataset.instructions import Instruction
from agentwrite.dataset.journal import META, REJECTS, TRAIN, Journal
from agentwrite.dataset.near_duplicates import NearDuplicateIndex
from agentwrite.dataset.preference import PAIRS
from agentwrite.dataset.recipe import Recipe
from agentwrite.dataset.records import BuildRecord, timestamp
from agentwrite.dataset.session import BUILD_FILE
from agentwrite.dataset.stats import write_stats
from agentwrite.errors import InputError
from agentwrite.files import read_jsonl, write_json
from agentwrite.files.output_paths import output_folder

Record = dict[str, Any]
_STATUSES = ("accepted", "rejected")


@dataclass(frozen=True)
class Merged:
    """What a merge wrote: the output's stats, and the ids it dropped as near-duplicates."""

    stats: dict[str, Any]
    duplicates: list[str]


@dataclass(frozen=True)
class _Source:
    path: Path
    sessions: list[Record]
    meta: list[Record]


def _read_source(path: Path) -> _Source:
    if not (path / META).is_file() or not (path / BUILD_FILE).is_file():
        raise InputError(f"{path} is not a dataset build folder (no {META} or {BUILD_FILE} in it)")
    try:
        sessions = json.loads((path / BUILD_FILE).read_text("utf-8"))["sessions"]
        meta = read_jsonl(path / META)
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror or exc}") from None
    except (ValueError, KeyError, TypeError):
        raise InputError(f"{path / BUILD_FILE} is not a build record") from None
    for number, record in enumerate(meta, 1):
        if not isinstance(record, dict) or "id" not in record or record.get("status") not in _STATUSES:
            raise InputError(f"{path / META} line {number} is not a meta record")
    return _Source(path, sessions, meta)


def _common_filters(sources: list[_Source]) -> Record:
    """The filters that every session of every source recorded; InputError where two differ."""
    first: tuple[str, Record] | None = None
    for source in sources:
        for session in source.sessions:
            where = f"{source.path} (session {session.get('started_at')})"
            filters = (session.get("recipe") or {}).get("filters")
            if not isinstance(filters, dict):
                raise InputError(f"{source.path / BUILD_FILE} records no filters for {where}")
            if first is None:
                first = (where, filters)
            elif filters != first[1]:
                key = min(k for k in first[1].keys() | filters.keys() if first[1].get(k) != filters.get(k))
                raise InputError(
                    f"{first[0]} and {where} were built with different filters ({key}: "
                    f"{first[1].get(key)} vs. {filters.get(key)}); merge only builds of one recipe"
                )
    if first is None:
        raise InputError("the sources record no build session")
    return first[1]


def _check_ids(sources: list[_Source]) -> None:
    owner: dict[str, Path] = {}
    for source in sources:
        for record in source.meta:
            if record["id"] in owner:
                raise InputError(
                    f"id {record['id']!r} is in {owner[record['id']]} and in {source.path}; "
                    "an instruction must be built in one shard only"
                )
            owner[record["id"]] = source.path


def _rows(source: _Source) -> Iterator[tuple[Record, Record, list[Record]]]:
    """Each committed meta record with its train or rejects record and its pair lines, in
    commit order. Lines after the committed ones (an interrupted build's uncommitted line)
    are left out."""
    files = {
        "accepted": read_jsonl(source.path / TRAIN),
        "rejected": read_jsonl(source.path / REJECTS),
        "pair": read_jsonl(source.path / PAIRS),
    }
    for kind, lines in files.items():
        if kind == "pair":
            wanted = sum(m.get("pairs") or 0 for m in source.meta)
        else:
            wanted = sum(1 for m in source.meta if m["status"] == kind)
        if len(lines) < wanted:
            raise InputError(f"{source.path} has {len(lines)} {kind} lines but its {META} commits {wanted}")
    accepted, rejected, pairs = iter(files["accepted"]), iter(files["rejected"]), iter(files["pair"])
    for meta in source.meta:
        own = [next(pairs) for _ in range(meta.get("pairs") or 0)]
        yield meta, next(accepted if meta["status"] == "accepted" else rejected), own


def _write(sources: list[_Source], filters: FilterConfig, folder: Path) -> list[str]:
    """Commit every source's rows into ``folder``; return the ids dropped as duplicates."""
    duplicates: list[str] = []
    total = sum(len(s.meta) for s in sources)
    index = NearDuplicateIndex(filters.near_duplicate_threshold)
    with Journal(folder) as journal:
        committer = Committer(
            journal, index, folder, Recipe(filters=filters), accepted=0, done=0, total=total, on_event=None
        )
        for source in sources:
            for meta, row, pairs in _rows(source):
                if meta["status"] != "accepted":
                    journal.commit(meta, reject=row, pairs=pairs)  # a recipe's rejected_pairs
                    continue
                user, assistant = row["messages"]
                item = Instruction(
                    meta["id"], user["content"], meta["requested_words"], meta["type"], meta["line"],
                    meta["length_source"],
                )  # fmt: skip
                # the committer counts the pairs again: a near-duplicate drops them
                record = BuildRecord.model_validate({k: v for k, v in meta.items() if k != "pairs"})
                committer.commit(Outcome(item, record, document=assistant["content"], pairs=pairs))
                if record.status != "accepted":
                    duplicates.append(record.id)
    return duplicates


def merge_builds(sources: Sequence[Path], out: Path) -> Merged:
    """Merge the build folders ``sources`` into the new folder ``out`` (see the module
    docstring). Raises InputError, before writing anything, for unusable sources or a
    non-empty ``out``."""
    paths = [Path(p) for p in sources]
    if not paths:
        raise InputError("no build folders to merge")
    seen: set[Path] = set()
    for path in paths:
        if path.resolve() in seen:
            raise InputError(f"{path} is given twice")
        seen.add(path.resolve())
    target = output_folder(Path(out), "--out").absolute()  # new or empty; a link is followed
    read = [_read_source(p) for p in paths]
    recorded = _common_filters(read)
    try:
        filters = FilterConfig.model_validate(recorded)
    except ValidationError as exc:
        raise InputError(f"the sources' filters are not valid now: {exc.errors()[0]['msg']}") from None
    _check_ids(read)

    target.parent.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".merging", dir=target.parent))
    try:
        duplicates = _write(read, filters, folder)
        record = {
            "merged_at": timestamp(),
            "sources": [str(s.path) for s in read],
            "near_duplicates_dropped": duplicates,
            # an older build may have recorded a recipe's API key: it is not copied on
            "sessions": [
                {"source": str(s.path), **without_secrets(session)} for s in read for session in s.sessions
            ],
        }
        write_json(folder / BUILD_FILE, record)
        stats = write_stats(folder)
        os.replace(folder, target)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return Merged(stats, duplicates)
