"""The output files of a dataset build, written so that a kill at any moment is harmless.

One writer appends to the files, whole lines only, flushed after each. For every finished
instruction it first writes the ``train.jsonl`` line (accepted) or the ``rejects.jsonl``
line (rejected), then its preference pairs' lines in ``pairs.jsonl`` (a build with pairs
asked for; the file is created with its first line), then the ``meta.jsonl`` line: meta is
the commit record, and its ``pairs`` says how many pair lines it commits. On restart,
``recover`` cuts a partial last line off each file and drops train, rejects or pair lines
whose meta line never came, so each id is in the outputs exactly once.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from agentwrite.dataset.preference import PAIRS
from agentwrite.errors import InputError
from agentwrite.files import append_jsonl

log = logging.getLogger(__name__)

TRAIN = "train.jsonl"
META = "meta.jsonl"
REJECTS = "rejects.jsonl"


def _read(path: Path) -> bytes:
    return path.read_bytes() if path.exists() else b""


def _line_ends(data: bytes) -> list[int]:
    """Byte offsets just past each complete (newline-terminated) line.

    >>> _line_ends(b'{"a": 1}\\n{"b"'), _line_ends(b"")
    ([9], [])
    """
    ends, start = [], 0
    while (newline := data.find(b"\n", start)) >= 0:
        ends.append(newline + 1)
        start = newline + 1
    return ends


def _truncate(path: Path, size: int) -> None:
    if path.exists() and path.stat().st_size != size:
        log.warning("cutting %s from %d to %d bytes", path, path.stat().st_size, size)
        os.truncate(path, size)


def recover(out_dir: Path) -> list[dict[str, Any]]:
    """Repair the outputs after an interrupted build; return the committed meta records.

    Raises InputError when the files disagree in a way no interruption can cause (a bad
    line in the middle of meta, or fewer train, rejects or pair lines than meta commits).
    """
    meta_path = out_dir / META
    data = _read(meta_path)
    ends = _line_ends(data)
    records: list[dict[str, Any]] = []
    start = good_size = 0
    for number, end in enumerate(ends, 1):
        try:
            record = json.loads(data[start:end])
            if not isinstance(record, dict) or "id" not in record or "status" not in record:
                raise ValueError("not a meta record")
        except ValueError:
            if number == len(ends):
                break  # a last line cut short but for its newline
            raise InputError(f"{meta_path} line {number} is corrupt; the build cannot resume") from None
        records.append(record)
        start = good_size = end
    if meta_path.exists():
        _truncate(meta_path, good_size)
    seen: set[str] = set()
    for record in records:
        if record["id"] in seen:
            raise InputError(f"{meta_path} holds id {record['id']!r} twice")
        seen.add(record["id"])
    committed = {
        TRAIN: sum(1 for r in records if r["status"] == "accepted"),
        REJECTS: sum(1 for r in records if r["status"] == "rejected"),
        PAIRS: sum(r.get("pairs") or 0 for r in records),
    }
    for name, wanted in committed.items():
        path = out_dir / name
        line_ends = _line_ends(_read(path))
        if len(line_ends) < wanted:
            raise InputError(f"{path} has {len(line_ends)} lines but {meta_path} commits {wanted}")
        _truncate(path, line_ends[wanted - 1] if wanted else 0)
    return records


class Journal:
    """Appends committed outcomes to the output files (use as a context manager)."""

    def __init__(self, out_dir: Path) -> None:
        out_dir.mkdir(parents=True, exist_ok=True)
        self._out_dir = out_dir
        self._files: dict[str, TextIO] = {name: self._open(name) for name in (TRAIN, REJECTS, META)}

    def _open(self, name: str) -> TextIO:
        return (self._out_dir / name).open("a", encoding="utf-8", newline="")

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *_: object) -> None:
        for handle in self._files.values():
            handle.close()

    def _append(self, name: str, record: dict[str, Any]) -> None:
        if name not in self._files:
            self._files[name] = self._open(name)
        append_jsonl(self._files[name], record)

    def commit(
        self,
        meta: dict[str, Any],
        train: dict[str, Any] | None = None,
        reject: dict[str, Any] | None = None,
        pairs: Sequence[dict[str, Any]] = (),
    ) -> None:
        """Write one finished instruction: its train or rejects line, its pair lines (as many
        as its meta's ``pairs``), then its meta line."""
        if (train is None) == (reject is None):
            raise ValueError("an outcome is either a training example or a reject")
        if len(pairs) != (meta.get("pairs") or 0):
            raise ValueError(f"{len(pairs)} pair lines, but the meta record commits {meta.get('pairs') or 0}")
        if train is not None:
            self._append(TRAIN, train)
        else:
            self._append(REJECTS, reject)  # type: ignore[arg-type]
        for pair in pairs:
            self._append(PAIRS, pair)
        self._append(META, meta)
