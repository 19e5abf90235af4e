"""One server for a whole test run, shared by pytest-xdist's workers.

Under ``pytest -n N`` the first worker that needs the server starts it while it holds a file
lock; the others wait on the lock, then read the server's address from a file beside it. The
worker that started it keeps it until every other worker of the run has ended its session
(each worker is listed in the run's folder while its session runs; one whose process has
died counts as ended), then stops it. Without xdist the session's process starts and stops it.

The folder is the one pytest's workers share, the parent of each worker's ``--basetemp``
(xdist's ``basetemp/popen-gwN``); outside xdist, the session's own basetemp. A conftest
that uses ``shared_server`` imports this module's ``pytest_sessionstart`` and
``pytest_sessionfinish`` hooks, which list each worker while its session runs.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Protocol

import pytest

_ADDRESS = "server.json"
_LOCK = "server.lock"
_WORKERS = "workers"


class Server(Protocol):
    base_url: str
    model_name: str

    def stop(self) -> None: ...


class ServerUnavailable(Exception):
    """The server could not be started (in this worker or the one that tried first)."""


def run_folder(basetemp: Path) -> Path:
    """The folder this run's workers share, from this process's basetemp.

    >>> str(run_folder(Path("/tmp/pytest-7/popen-gw1"))), str(run_folder(Path("/tmp/pytest-7")))
    ('/tmp/pytest-7', '/tmp/pytest-7')
    """
    return basetemp.parent if basetemp.name.startswith("popen-gw") else basetemp


def _xdist_folder(config: pytest.Config) -> Path | None:
    """The folder this run's workers share, in an xdist worker; None elsewhere (also in a
    pytest that a worker's test starts, which inherits the worker's environment)."""
    if not hasattr(config, "workerinput") or not config.option.basetemp:
        return None
    return run_folder(Path(config.option.basetemp))


def pytest_sessionstart(session: pytest.Session) -> None:
    """A hook for the conftest that uses ``shared_server`` (import it there): list the worker."""
    if (folder := _xdist_folder(session.config)) is not None:
        worker_started(folder)


def pytest_sessionfinish(session: pytest.Session) -> None:
    """A hook for the conftest that uses ``shared_server`` (import it there): unlist the worker."""
    if (folder := _xdist_folder(session.config)) is not None:
        worker_ended(folder)


def _worker_file(folder: Path, pid: int) -> Path:
    return folder / _WORKERS / str(pid)


def worker_started(folder: Path) -> None:
    """List this process as a worker whose session is running."""
    (folder / _WORKERS).mkdir(parents=True, exist_ok=True)
    _worker_file(folder, os.getpid()).touch()


def worker_ended(folder: Path) -> None:
    """Take this process off the list of running workers."""
    _worker_file(folder, os.getpid()).unlink(missing_ok=True)


def _others_running(folder: Path) -> list[int]:
    pids = [int(f.name) for f in (folder / _WORKERS).glob("*")] if (folder / _WORKERS).is_dir() else []
    return [pid for pid in pids if pid != os.getpid() and _alive(pid)]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextlib.contextmanager
def shared_server(folder: Path, start: Callable[[], Server], poll: float = 1.0) -> Iterator[tuple[str, str]]:
    """The ``(base_url, model_name)`` of the run's one server, started here by ``start()`` if
    no worker has started it yet. ``start`` raises ``ServerUnavailable`` when it cannot
    start one; then every worker that asks gets that error, and none tries again."""
    folder.mkdir(parents=True, exist_ok=True)
    address = folder / _ADDRESS
    owned: Server | None = None
    with _locked(folder / _LOCK):
        if address.exists():
            found = json.loads(address.read_text("utf-8"))
        else:
            try:
                owned = start()
                found = {"base_url": owned.base_url, "model_name": owned.model_name}
            except ServerUnavailable as exc:
                found = {"error": str(exc)}
            address.write_text(json.dumps(found), "utf-8")
    if "error" in found:
        raise ServerUnavailable(found["error"])
    try:
        yield found["base_url"], found["model_name"]
    finally:
        if owned is not None:
            while _others_running(folder):
                time.sleep(poll)
            owned.stop()
            address.unlink(missing_ok=True)
