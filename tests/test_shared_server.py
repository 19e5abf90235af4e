"""tests/shared_server.py: one server for a whole run, started by the first worker that needs
it (or in the background when a session begins) and stopped by it once every other worker has
ended; and the same under real xdist workers."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.shared_server import (
    ServerUnavailable,
    shared_server,
    start_early,
    stop_early,
    worker_ended,
    worker_started,
)

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class FakeServer:
    base_url: str = "http://127.0.0.1:1/v1"
    model_name: str = "fake"
    events: list[str] = field(default_factory=list)

    def stop(self) -> None:
        self.events.append("stopped")


def test_the_second_user_reuses_the_first_users_server(tmp_path: Path) -> None:
    started: list[FakeServer] = []

    def start() -> FakeServer:
        started.append(FakeServer())
        return started[-1]

    with shared_server(tmp_path, start) as first:
        with shared_server(tmp_path, start) as second:
            assert second == first == ("http://127.0.0.1:1/v1", "fake")
        assert started[0].events == []  # the user that did not start it does not stop it
    assert len(started) == 1 and started[0].events == ["stopped"]
    assert not (tmp_path / "server.json").exists()


def test_a_failed_start_is_not_tried_again_by_the_next_user(tmp_path: Path) -> None:
    tries: list[int] = []

    def start() -> FakeServer:
        tries.append(1)
        raise ServerUnavailable("vLLM exited with code 1 while starting")

    for _ in range(2):
        with pytest.raises(ServerUnavailable, match="exited with code 1"), shared_server(tmp_path, start):
            pass
    assert tries == [1]


def test_the_starter_stops_the_server_only_after_the_other_workers_end(tmp_path: Path) -> None:
    server = FakeServer()
    other = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE)
    (tmp_path / "workers").mkdir()
    (tmp_path / "workers" / str(other.pid)).touch()  # a live worker still in its session
    (tmp_path / "workers" / "999999999").touch()  # a worker whose process died: ended

    def end_the_other_worker() -> None:
        server.events.append("other worker ended")
        (tmp_path / "workers" / str(other.pid)).unlink()

    with shared_server(tmp_path, lambda: server, poll=0.01):
        worker_started(tmp_path)  # this worker itself is listed too, and is not waited for
        threading.Timer(0.2, end_the_other_worker).start()
    assert server.events == ["other worker ended", "stopped"]
    worker_ended(tmp_path)
    assert sorted(p.name for p in (tmp_path / "workers").iterdir()) == ["999999999"]
    other.communicate(b"")


def test_an_early_start_is_waited_for_used_and_stopped_by_its_starter(tmp_path: Path) -> None:
    server, booted = FakeServer(), threading.Event()

    def boot() -> FakeServer:
        booted.wait(5)  # still booting when the first user asks
        server.events.append("started")
        return server

    def never() -> FakeServer:
        raise AssertionError("a second server was started")

    start_early(tmp_path, boot, poll=0.01)
    threading.Timer(0.2, booted.set).start()
    with shared_server(tmp_path, never) as found:
        assert found == (server.base_url, server.model_name) and server.events == ["started"]
    assert server.events == ["started"]  # the user did not start it, so it does not stop it
    # the starting thread outlives the start: a server's parent-death signal follows that thread
    assert any(t.name == "shared-server-start" and t.is_alive() for t in threading.enumerate())
    stop_early(tmp_path)
    assert server.events == ["started", "stopped"] and not (tmp_path / "server.json").exists()
    stop_early(tmp_path)  # once only
    assert server.events == ["started", "stopped"]


CONFTEST = """
import os
import pytest
from tests.shared_server import pytest_sessionfinish, pytest_sessionstart, run_folder, shared_server
from tests.shared_server import start_early


class Server:
    base_url = f"http://127.0.0.1:1/{os.getpid()}"
    model_name = "fake"

    def stop(self):
        with open(os.environ["STARTS"], "a") as f:
            f.write(f"stop {os.getpid()}\\n")


def start():
    with open(os.environ["STARTS"], "a") as f:
        f.write(f"start {os.getpid()}\\n")
    return Server()


@pytest.fixture(scope="session", autouse=True)
def early(tmp_path_factory):
    if os.environ["EARLY"] == "1":
        start_early(run_folder(tmp_path_factory.getbasetemp()), start)


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    with shared_server(run_folder(tmp_path_factory.getbasetemp()), start) as found:
        yield found
"""

TEST = """
import os, time

def test_{name}(server):
    with open(os.environ["STARTS"], "a") as f:
        f.write(f"used {{os.getpid()}} {{server[0]}}\\n")
    time.sleep(0.5)  # both workers hold the server at once
"""


@pytest.mark.parametrize("early", [False, True], ids=["when-needed", "early"])
def test_two_xdist_workers_share_one_server(tmp_path: Path, early: bool) -> None:
    suite = tmp_path / "suite"
    suite.mkdir()
    (suite / "conftest.py").write_text(CONFTEST, "utf-8")
    for name in ("a", "b", "c", "d"):
        (suite / f"test_{name}.py").write_text(TEST.format(name=name), "utf-8")
    starts = tmp_path / "starts.log"
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-n", "2", "-q", "-p", "no:cacheprovider", "--rootdir", str(suite),
         "--basetemp", str(tmp_path / "base"), str(suite)],
        capture_output=True, text=True, timeout=300, cwd=suite,
        env={**os.environ, "STARTS": str(starts), "PYTHONPATH": str(ROOT), "EARLY": str(int(early))},
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    lines = starts.read_text("utf-8").split("\n")[:-1]
    starts_, stops = [x for x in lines if x.startswith("start")], [x for x in lines if x.startswith("stop")]
    assert len(starts_) == 1 and stops == [starts_[0].replace("start", "stop")]
    uses = [x.split() for x in lines if x.startswith("used")]
    assert len(uses) == 4 and len({u[2] for u in uses}) == 1  # one server's address for all
    assert len({u[1] for u in uses}) == 2  # used from both workers
    assert lines[-1].startswith("stop")  # after every use
