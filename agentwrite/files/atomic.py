"""Files that a crash cannot leave half-written, and JSON Lines one whole line at a time.

Every file the package writes whole (documents, sidecars, ``run.json``, ``build.json``,
``stats.json``, exports) goes through ``atomic_file``: a temporary file beside the target,
renamed over it once complete, so a reader sees the old file or the new one. JSON Lines
files that grow (predictions, a build's journal) are appended a whole line per write and
read back by ``read_jsonl``, which ignores or cuts off a last line a crash tore.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO

from agentwrite.errors import InputError

log = logging.getLogger(__name__)

MAX_TEXT_FILE_BYTES = 8_000_000
"""The most bytes read of a brief, a plan, a config file, a recipe or instruction seeds."""
MAX_DATA_FILE_BYTES = 2**30
"""The most bytes read of a JSON Lines file: instructions, a suite, predictions, a build's files."""


def file_kind(mode: int) -> str:
    """What a file of this ``st_mode`` is, in words.

    >>> file_kind(stat.S_IFCHR), file_kind(stat.S_IFIFO), file_kind(stat.S_IFDIR)
    ('a device', 'a FIFO', 'a folder')
    """
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "a regular file" if stat.S_ISREG(mode) else "a special file"


def _unreadable(path: Path, what: str, exc: OSError) -> InputError:
    if isinstance(exc, FileNotFoundError):
        return InputError(f"{what} {path} does not exist")
    if exc.errno == errno.ELOOP:
        return InputError(f"{what} {path} is a symbolic link loop")
    return InputError(f"cannot read {what} {path}: {exc.strerror or exc}")


def read_bounded(path: Path, limit: int, what: str = "file") -> bytes:
    """The bytes of a file the user named, at most ``limit`` of them: InputError in one line
    when it is missing, a folder, a special file (a FIFO, a device, a socket: refused before
    a read that could hang or never end), a link loop, unreadable, or longer than ``limit``
    bytes as read (not as its size says).

    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / "brief.txt"
    >>> _ = path.write_bytes(b"Write about tea.")
    >>> read_bounded(path, 100)
    b'Write about tea.'
    >>> read_bounded(Path("/dev/zero"), 100, "brief file")
    Traceback (most recent call last):
    ...
    agentwrite.errors.InputError: brief file /dev/zero is a device, not a regular file
    """
    try:
        mode = os.stat(path).st_mode
        if stat.S_ISREG(mode):  # opened without blocking, and checked again once open
            fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
            with os.fdopen(fd, "rb") as handle:
                mode = os.fstat(fd).st_mode
                data = handle.read(limit + 1) if stat.S_ISREG(mode) else b""
    except OSError as exc:
        raise _unreadable(path, what, exc) from None
    if not stat.S_ISREG(mode):
        raise InputError(f"{what} {path} is {file_kind(mode)}, not a regular file")
    if len(data) > limit:
        raise InputError(f"{what} {path} has more than {limit:,} bytes; the limit is {limit:,}")
    return data


def read_text_file(path: Path, what: str, limit: int = MAX_TEXT_FILE_BYTES) -> str:
    """A UTF-8 text file the user named (a byte-order mark dropped), read as ``read_bounded``
    reads it; InputError when it is not UTF-8."""
    try:
        return read_bounded(path, limit, what).decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError(f"{what} {path} is not valid UTF-8") from None


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
    if not os.path.lexists(path):
        return []
    data = read_bounded(path, MAX_DATA_FILE_BYTES, "JSON Lines file")
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
    text = read_text_file(path, "file", MAX_DATA_FILE_BYTES)
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
