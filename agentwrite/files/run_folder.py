"""Run folders that agentwrite owns: made or adopted with a marker, and cleared of only what
agentwrite wrote in them.

A run folder (``write --run-dir``, a build's ``runs/ID``, an eval run's ``work/KEY``) gets
its marker (``MARKER``) before anything else is written in it; the marker records whether
agentwrite made the folder. An existing folder is used only when it is empty, already
marked, or an agentwrite run folder from before markers (it holds ``run.json``). Clearing a
run folder removes the files agentwrite writes there (``OWN_FILES``) and the marker, then
the folder itself only when agentwrite made it and nothing else is left in it: a file the
user put there, or the folder they named, is never removed.

One process at a time writes a run folder: it holds the folder's lock (``lock_run_dir``, an
``flock`` on the folder itself, let go when the process ends however it ends) while it runs,
and a folder another process holds is not cleared. A build driver killed mid-job leaves its
Ray actors writing for a while; the build started again waits for them instead of writing the
same checkpoint beside them, or seeing its cleared folder written again after it.
"""

from __future__ import annotations

import asyncio
import fcntl
import json
import logging
import os
from pathlib import Path

from agentwrite.errors import InputError

log = logging.getLogger(__name__)

_HELD_POLL_S = 0.5
_HELD_LOG_EVERY_S = 60.0

MARKER = ".agentwrite-run"
RUN_FILE = "run.json"
"""What was run, in its folder: a document's run folder and an eval run folder alike."""
CHECKPOINTS = "checkpoints.sqlite"
OWN_FILES = (
    CHECKPOINTS,
    CHECKPOINTS + "-wal",
    CHECKPOINTS + "-shm",
    CHECKPOINTS + "-journal",
    RUN_FILE,
)
"""What a run writes in its folder (SQLite's side files included), besides the marker."""


def _all_own(folder: Path) -> bool:
    """Whether everything in ``folder`` is a file a run writes (an unmarked folder of an
    older agentwrite, which it made itself)."""
    return all(p.name in OWN_FILES or p.name == MARKER for p in folder.iterdir())


def _holds_run_record(folder: Path) -> bool:
    """Whether ``folder`` holds a run's ``run.json`` (a JSON object with its brief and mode)."""
    try:
        record = json.loads((folder / RUN_FILE).read_bytes()[:1_000_000])
    except (OSError, ValueError):
        return False
    return isinstance(record, dict) and "brief" in record and "mode" in record


def _made_by_agentwrite(folder: Path) -> bool | None:
    """Whether agentwrite made ``folder`` (as its marker says), None when it is no run
    folder of agentwrite's at all."""
    marker = folder / MARKER
    if marker.is_file():
        try:
            return bool(json.loads(marker.read_text("utf-8")).get("created"))
        except (OSError, ValueError, AttributeError):
            return False  # a damaged marker: the folder is a run's, but do not remove it
    if _holds_run_record(folder) and _all_own(folder):
        return True
    return None


def check_run_dir(path: Path) -> None:
    """Raise InputError, creating nothing, when ``path`` cannot be a run folder: it is not a
    folder, or a folder that holds files of the user's and no agentwrite run, or it cannot be
    created.

    >>> import tempfile
    >>> home = Path(tempfile.mkdtemp()); _ = (home / "keep.txt").write_text("x")
    >>> check_run_dir(home / "new")  # a new folder is fine
    >>> check_run_dir(home)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    agentwrite.errors.InputError: run directory ... holds files agentwrite did not write; give a new or ...
    """
    if path.is_symlink() and not path.exists():
        raise InputError(f"run directory {path} is a broken symbolic link")
    if path.exists():
        if not path.is_dir():
            raise InputError(f"run directory {path} exists and is not a folder")
        if (path / MARKER).is_file() or _holds_run_record(path) or not any(path.iterdir()):
            return
        raise InputError(
            f"run directory {path} holds files agentwrite did not write; give a new or empty folder"
        )
    ancestor = path.parent
    while not ancestor.exists() and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise InputError(f"cannot create run directory {path}: {ancestor} is not a folder")


def claim_run_dir(path: Path) -> None:
    """Make ``path`` a run folder (checked as ``check_run_dir`` does): create it, or adopt
    the empty folder, writing its marker first; a marked folder is left as it is."""
    check_run_dir(path)
    created = not path.exists()
    try:
        path.mkdir(parents=True, exist_ok=True)
        if not (path / MARKER).exists():
            made = created or _made_by_agentwrite(path) is True
            (path / MARKER).write_text(json.dumps({"created": made}) + "\n", "utf-8")
    except OSError as exc:
        raise InputError(f"cannot create run directory {path}: {exc.strerror or exc}") from None


def lock_run_dir(path: Path) -> int | None:
    """Hold the run folder ``path`` (which exists) for this process: the open descriptor whose
    lock holds it (close it to let go), or None when another process holds it, or when the
    folder was removed or made again while this one looked.

    >>> import tempfile
    >>> home = Path(tempfile.mkdtemp())
    >>> held = lock_run_dir(home); held is not None
    True
    >>> lock_run_dir(home) is None  # a second holder, even in the same process, is refused
    True
    >>> os.close(held); again = lock_run_dir(home); again is not None
    True
    """
    descriptor = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        opened, now = os.fstat(descriptor), os.stat(path)
    except (BlockingIOError, FileNotFoundError):
        os.close(descriptor)
        return None
    if (opened.st_dev, opened.st_ino) != (now.st_dev, now.st_ino):
        os.close(descriptor)
        return None
    return descriptor


async def hold_run_dir(run_dir: Path, wait: bool) -> int:
    """Create or adopt the run folder (checked first: a folder of the user's is refused) and
    hold its lock: the descriptor to close when the run ends. A folder another process holds
    is waited for when ``wait`` (a build's writer from an earlier driver ends or is ended by
    Ray), else an InputError."""
    waited = 0.0
    while True:
        claim_run_dir(run_dir)  # made again when the other process's clean-up removed it
        held = lock_run_dir(run_dir)
        if held is not None:
            return held
        if not wait:
            raise InputError(
                f"run directory {run_dir} is being written by another agentwrite process; "
                "wait for it to end or give another run directory"
            )
        if waited % _HELD_LOG_EVERY_S == 0:
            log.warning("%s is being written by another process: waiting (%.0f s so far)", run_dir, waited)
        await asyncio.sleep(_HELD_POLL_S)
        waited += _HELD_POLL_S


def clear_run_dir(path: Path) -> None:
    """Remove what agentwrite wrote in the run folder ``path``, and the folder itself when
    agentwrite made it and nothing else is in it. A folder agentwrite does not own, one
    another process is writing (``lock_run_dir``), or none at all, is left alone.

    >>> import tempfile
    >>> home = Path(tempfile.mkdtemp())
    >>> claim_run_dir(home / "run"); _ = (home / "run" / RUN_FILE).write_text("{}")
    >>> clear_run_dir(home / "run"); (home / "run").exists()
    False
    >>> _ = (home / "mine.txt").write_text("x"); clear_run_dir(home); sorted(p.name for p in home.iterdir())
    ['mine.txt']
    """
    if not path.is_dir():
        return
    made = _made_by_agentwrite(path)
    if made is None:
        log.warning("%s is not an agentwrite run folder: nothing removed", path)
        return
    held = lock_run_dir(path)
    if held is None:
        log.warning("%s is being written by another process: nothing removed", path)
        return
    try:
        for name in (*OWN_FILES, MARKER):  # the marker last: a clean-up cut short can run again
            (path / name).unlink(missing_ok=True)
        if made and not any(path.iterdir()):
            path.rmdir()
    finally:
        os.close(held)
