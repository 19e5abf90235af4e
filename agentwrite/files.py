"""Files that a crash cannot leave half-written, and JSON Lines one whole line at a time.

Every file the package writes whole (documents, sidecars, ``run.json``, ``build.json``,
``stats.json``, exports) goes through ``atomic_file``: a temporary file beside the target,
renamed over it once complete, so a reader sees the old file or the new one. JSON Lines
files that grow (predictions, a build's journal) are appended a whole line per write and
read back by ``read_jsonl``, which ignores or cuts off a last line a crash tore.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO

from agentwrite.errors import InputError

log = logging.getLogger(__name__)


@contextmanager
def atomic_file(path: Path) -> Iterator[Path]:
    """A temporary path to write ``path``'s new content to; renamed over ``path`` when
    the block ends without an error, removed when it raises.

    >>> import tempfile
    >>> target = Path(tempfile.mkdtemp()) / "a.txt"
    >>> with atomic_file(target) as tmp:
    ...     _ = tmp.write_text("whole")
    >>> target.read_text(), sorted(p.name for p in target.parent.iterdir())
    ('whole', ['a.txt'])
    """
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_text(path: Path, text: str) -> None:
    """Write a whole UTF-8 text file or nothing."""
    with atomic_file(path) as tmp:
        tmp.write_text(text, "utf-8")


def write_json(path: Path, record: Any) -> None:
    """Write a JSON file (indented, UTF-8 kept as it is) whole or not at all.

    >>> import tempfile
    >>> target = Path(tempfile.mkdtemp()) / "run.json"
    >>> write_json(target, {"model": "茶"}); target.read_text("utf-8")
    '{\\n  "model": "茶"\\n}\\n'
    """
    write_text(path, json.dumps(record, ensure_ascii=False, indent=2) + "\n")


def append_jsonl(handle: TextIO, record: Any) -> None:
    """Append one record as one line and flush it, so that a crash loses at most the line
    being written."""
    handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    handle.flush()


def read_jsonl(path: Path, *, repair: bool = False) -> list[dict[str, Any]]:
    """The records of a JSON Lines file the package appends to; none if it is missing.

    A last line that a crash tore (no newline, or not JSON) is left out, and with
    ``repair`` cut off the file, so that appending goes on from a whole line. A bad line
    anywhere else is damage no crash explains: an InputError naming it.

    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / "p.jsonl"
    >>> _ = path.write_bytes(b'{"key": 1}\\n{"key": 2}\\n{"ke')
    >>> read_jsonl(path, repair=True), path.read_bytes()
    ([{'key': 1}, {'key': 2}], b'{"key": 1}\\n{"key": 2}\\n')
    """
    if not path.exists():
        return []
    data = path.read_bytes()
    records: list[dict[str, Any]] = []
    start = 0
    number = 0
    while start < len(data):
        number += 1
        newline = data.find(b"\n", start)
        end = len(data) if newline < 0 else newline + 1
        try:
            if newline < 0:
                raise ValueError("no newline")
            record = json.loads(data[start:end])
            if not isinstance(record, dict):
                raise ValueError("not an object")
        except ValueError:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
            if end < len(data):
                raise InputError(f"{path} line {number} is not a JSON object") from None
            if repair:
                log.warning("cutting a torn last line off %s", path)
                os.truncate(path, start)
            break
        records.append(record)
        start = end
    return records


def read_numbered_jsonl(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """``(line number, object)`` for each non-blank line of a JSON Lines file a person
    gave (a suite, scores): a byte-order mark is allowed, a bad line is an InputError.

    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / "suite.jsonl"
    >>> _ = path.write_text('{"prompt": "a"}\\n\\n{"prompt": "b"}\\n', "utf-8")
    >>> [number for number, _ in read_numbered_jsonl(path)]
    [1, 3]
    """
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputError(f"no such file: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read {path}: {exc}") from None
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(f"{path}:{number}: not valid JSON ({exc.msg})") from None
        if not isinstance(data, dict):
            raise InputError(f"{path}:{number}: expected a JSON object, got {type(data).__name__}")
        yield number, data
