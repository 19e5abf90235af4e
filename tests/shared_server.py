"""One server for a whole test run, shared by pytest-xdist's workers.

Under ``pytest -n N`` the first worker that needs the server starts it while it holds a file
lock; the others wait on the lock, then read the server's address from a file beside it. The
worker that started it keeps it until every other worker of the run has ended its session
(each worker is listed in the run's folder while its session runs; one whose process has
died counts as ended), then stops it. Without xdist the session's process starts and stops it.
``start_early`` does the same in a background thread when a session begins, so that the
server boots while the worker runs tests that do not need it.

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
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
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
    """A hook for the conftest that uses ``shared_server`` (import it there): unlist the worker,
    then stop a server ``start_early`` started in this process once the other workers end."""
    if (folder := _xdist_folder(session.config)) is not None:
        worker_ended(folder)
    for folder in list(_EARLY):
        stop_early(folder)


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


@dataclass
class _Early:
    """A server start in a background thread of this process (``start_early``)."""

    ready: threading.Event = field(default_factory=threading.Event)
    """Set once the address file says where the server is, or why there is none."""
    stop: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None


_EARLY: dict[Path, _Early] = {}


def _find_or_start(folder: Path, start: Callable[[], Server]) -> tuple[dict[str, str], Server | None]:
    """The run's server as the address file holds it, started by ``start()`` if no process
    has tried yet (then also the server, which this process must stop)."""
    folder.mkdir(parents=True, exist_ok=True)
    address = folder / _ADDRESS
    with _locked(folder / _LOCK):
        if address.exists():
            return json.loads(address.read_text("utf-8")), None
        owned: Server | None = None
        try:
            owned = start()
            found = {"base_url": owned.base_url, "model_name": owned.model_name}
        except ServerUnavailable as exc:
            found = {"error": str(exc)}
        address.write_text(json.dumps(found), "utf-8")
        return found, owned


def start_early(folder: Path, start: Callable[[], Server], poll: float = 1.0) -> None:
    """Start the run's server in a background thread of this process, unless a process has
    already started it, so that it boots (minutes on CPU) while this worker runs tests that do
    not need it. ``shared_server`` waits until it is up; ``stop_early`` stops it.

    The thread lives until the stop: the kernel signal that ends a server whose owner died
    (``PR_SET_PDEATHSIG``) follows the thread that started it, not the process."""

    def run(early: _Early) -> None:
        owned = None
        try:
            _found, owned = _find_or_start(folder, start)
        finally:
            early.ready.set()
        if owned is not None:
            early.stop.wait()
            _stop_when_alone(folder, owned, poll)

    if folder not in _EARLY:
        early = _Early()
        early.thread = threading.Thread(target=run, args=(early,), name="shared-server-start", daemon=True)
        _EARLY[folder] = early
        early.thread.start()


def _stop_when_alone(folder: Path, server: Server, poll: float) -> None:
    while _others_running(folder):
        time.sleep(poll)
    server.stop()
    (folder / _ADDRESS).unlink(missing_ok=True)


def stop_early(folder: Path) -> None:
    """Stop the server ``start_early`` started in this process, once every other worker has
    ended its session (call it when this process's session ends, after its own listing is
    gone). Nothing to stop where this process did not start it."""
    if (early := _EARLY.pop(folder, None)) is not None:
        early.stop.set()
        if early.thread is not None:
            early.thread.join()


@contextlib.contextmanager
def shared_server(folder: Path, start: Callable[[], Server], poll: float = 1.0) -> Iterator[tuple[str, str]]:
    """The ``(base_url, model_name)`` of the run's one server, started here by ``start()`` if
    no worker has started it yet (or waited for, where ``start_early`` is starting it in this
    process). ``start`` raises ``ServerUnavailable`` when it cannot start one; then every
    worker that asks gets that error, and none tries again. A server started here is stopped
    on leaving, once every other worker has ended."""
    if (early := _EARLY.get(folder)) is not None:
        early.ready.wait()
    found, owned = _find_or_start(folder, start)
    if "error" in found:
        raise ServerUnavailable(found["error"])
    try:
        yield found["base_url"], found["model_name"]
    finally:
        if owned is not None:
            _stop_when_alone(folder, owned, poll)
