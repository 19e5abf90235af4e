"""``dataset build --ray``: a Ray Data job on a cluster of this machine that the tests start
(loopback only), against the loopback writer server. It writes what a local build of the same
instructions writes, and a worker or the driver killed mid-job loses and doubles nothing.

"The same" is per id: the same ``train.jsonl`` and ``rejects.jsonl`` lines, byte for byte,
and the same ``meta.jsonl`` records but for their timings (``started_at``, ``finished_at``,
``seconds``, ``write_seconds``, ``session``) and what each server did (``endpoints``, by
URL: each build here has a server of its own); lines follow the order documents finish in,
as in a local build with ``concurrency`` above 1. ``stats.json`` differs only in
``throughput`` and ``endpoints``.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from agentwrite.cli import app
from agentwrite.dataset.build import build_dataset
from agentwrite.dataset.filters import FilterConfig
from agentwrite.dataset.journal import META, REJECTS, TRAIN
from agentwrite.dataset.recipe import Recipe
from agentwrite.errors import ServerUnreachable
from agentwrite.settings import Settings
from agentwrite.testing.fake_writer import writer_handler
from agentwrite.testing.openai_server import OpenAIServer
from agentwrite.testing.replies import Reply

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:ray.data.context")  # Ray's own

needs_ray = pytest.mark.skipif(
    importlib.util.find_spec("ray") is None, reason="Ray is not installed (pip install 'agentwrite[ray]')"
)

ITEMS = [
    *(
        {"id": f"tea-{i}", "prompt": f"Write a 700-word essay on tea custom {i}.", "type": "essay"}
        for i in range(1, 9)
    ),
    {"id": "note", "prompt": "Write a 300-word note on green tea.", "type": "note"},  # too short below
]
SOURCE = "".join(json.dumps(item) + "\n" for item in ITEMS) + "not json\n"  # and a bad line
RECIPE = Recipe(concurrency=2, filters=FilterConfig(min_words=400))
ACTORS = 2
RUN_SPECIFIC = {"started_at", "finished_at", "seconds", "write_seconds", "session", "endpoints"}


def settings(server: OpenAIServer) -> Settings:
    return Settings(base_url=server.base_url, model="test-model")


def paced(request: dict[str, Any]) -> Reply:
    """The writer, 0.1 s a request: long enough that requests overlap and kills land mid-job."""
    return replace(writer_handler(request), delay=0.1)


def lines(path: Path) -> list[bytes]:
    data = path.read_bytes()
    assert data == b"" or data.endswith(b"\n"), f"{path.name} ends in a partial line"
    return data.splitlines()


def outputs(out: Path) -> dict[str, Any]:
    """What must match between builds: each file's lines, meta records but for what is
    specific to a run."""
    meta = [json.loads(line) for line in lines(out / META)]
    ids = [m["id"] for m in meta]
    assert len(ids) == len(set(ids)), "an id committed twice"
    stats = json.loads((out / "stats.json").read_text("utf-8"))
    return {
        TRAIN: sorted(lines(out / TRAIN)),
        REJECTS: sorted(lines(out / REJECTS)),
        META: {m["id"]: {k: v for k, v in m.items() if k not in RUN_SPECIFIC} for m in meta},
        "stats": {k: v for k, v in stats.items() if k not in ("throughput", "endpoints")},
        "runs left": sorted(p.name for p in (out / "runs").iterdir()),
    }


@pytest.fixture(scope="module")
def cluster() -> Iterator[str]:
    """A Ray cluster of this machine, on loopback, for this module; its address."""
    from agentwrite.dataset.ray_build import LOCAL, import_ray

    ray = import_ray(LOCAL)  # binds Ray to loopback, without usage reports
    temp = tempfile.mkdtemp(prefix="ray-")  # short: Ray's socket paths must fit
    ray.init(address=LOCAL, num_cpus=2, include_dashboard=False, logging_level=logging.ERROR, _temp_dir=temp)
    try:
        yield ray.get_runtime_context().gcs_address
    finally:
        ray.shutdown()
        shutil.rmtree(temp, ignore_errors=True)


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The outputs of a local build of the instructions."""
    folder = tmp_path_factory.mktemp("local")
    (folder / "in.jsonl").write_text(SOURCE, "utf-8")
    with OpenAIServer(writer_handler) as server:
        build_dataset(folder / "in.jsonl", folder / "out", settings(server), recipe=RECIPE)
    got = outputs(folder / "out")
    assert {m["status"] for m in got[META].values()} == {"accepted", "rejected"}
    return got


def source(tmp_path: Path) -> Path:
    path = tmp_path / "in.jsonl"
    path.write_text(SOURCE, "utf-8")
    return path


@needs_ray
def test_a_ray_build_writes_what_a_local_build_writes(
    cluster: str, reference: dict[str, Any], tmp_path: Path
) -> None:
    from agentwrite.dataset.build import BuildProgress
    from agentwrite.dataset.ray_build import build_dataset_ray

    events: list[BuildProgress] = []
    with OpenAIServer(paced) as server:
        stats = build_dataset_ray(
            source(tmp_path), tmp_path / "out", settings(server), recipe=RECIPE, actors=ACTORS,
            on_event=events.append,
        )  # fmt: skip
    assert outputs(tmp_path / "out") == reference
    assert stats["accepted"] == 8 and stats["reject_reasons"] == {"too short": 1, "bad input line": 1}
    assert [e.done for e in events] == list(range(1, len(ITEMS) + 2))
    assert 2 <= server.max_concurrency <= ACTORS * RECIPE.concurrency  # each actor bounds its documents


@needs_ray
def test_a_lost_server_stops_a_ray_build_with_nothing_committed_for_it(cluster: str, tmp_path: Path) -> None:
    from agentwrite.dataset.ray_build import build_dataset_ray

    with socket.socket() as probe:  # a loopback port that nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    gone = Settings(base_url=f"http://127.0.0.1:{port}/v1", model="test-model", max_retries=1,
                    retry_base_delay=0.01, retry_max_delay=0.01)  # fmt: skip
    with pytest.raises(ServerUnreachable, match=f"127.0.0.1:{port}"):
        build_dataset_ray(source(tmp_path), tmp_path / "out", gone, recipe=RECIPE, actors=1)
    assert [json.loads(line)["id"] for line in lines(tmp_path / "out" / META)] == ["input-line-10"]


def writer_pids() -> list[int]:
    """The Ray Data actors of this process's cluster (its raylet's children), by their titles."""
    children: dict[int, list[int]] = defaultdict(list)
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            children[int(stat.read_text().rsplit(")", 1)[1].split()[1])].append(int(stat.parent.name))
        except (OSError, IndexError, ValueError):
            continue
    found, stack = [], [os.getpid()]
    while stack:
        for child in children[stack.pop()]:
            stack.append(child)
            try:
                if Path(f"/proc/{child}/cmdline").read_bytes().startswith(b"ray::MapWorker"):
                    found.append(child)
            except OSError:
                continue
    return found


class KillWorkers:
    """The paced writer that SIGKILLs the writer actors when the ``at``-th request comes in:
    they die with their documents in flight, that request's among them."""

    def __init__(self, at: int) -> None:
        self.at, self.count = at, 0
        self.killed: list[int] = []
        self.lock = threading.Lock()

    def __call__(self, request: dict[str, Any]) -> Reply:
        with self.lock:
            self.count += 1
            if self.count == self.at:
                self.killed = writer_pids()
                for pid in self.killed:
                    os.kill(pid, signal.SIGKILL)
        return paced(request)


@needs_ray
def test_writer_actors_killed_mid_job_lose_and_double_nothing(
    cluster: str, reference: dict[str, Any], tmp_path: Path
) -> None:
    from agentwrite.dataset.ray_build import build_dataset_ray

    killer = KillWorkers(at=8)  # about a third of the requests in
    with OpenAIServer(killer) as server:
        build_dataset_ray(source(tmp_path), tmp_path / "out", settings(server), recipe=RECIPE, actors=ACTORS)
    assert killer.killed
    bodies = [json.dumps(r.body, sort_keys=True) for r in server.completion_requests()]
    assert len(bodies) > len(set(bodies))  # the requests cut off were sent again, by new actors
    assert outputs(tmp_path / "out") == reference


def cli_build(folder: Path, address: str, base_url: str) -> subprocess.Popen[bytes]:
    argv = [
        sys.executable, "-m", "agentwrite.cli", "dataset", "build", "in.jsonl", "-o", "out", "--ray", address,
        "--actors", str(ACTORS), "--concurrency", str(RECIPE.concurrency), "--min-words", "400",
        "--base-url", base_url, "--model", "test-model", "-q",
    ]  # fmt: skip
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AGENTWRITE_", "OPENAI_"))}
    log = (folder / "run.log").open("ab")
    return subprocess.Popen(argv, cwd=folder, env=env, stdout=log, stderr=log)


@needs_ray
def test_a_driver_killed_mid_job_and_started_again_loses_and_doubles_nothing(
    cluster: str, reference: dict[str, Any], tmp_path: Path
) -> None:
    source(tmp_path)
    meta = tmp_path / "out" / META
    with OpenAIServer(paced) as server:
        driver = cli_build(tmp_path, cluster, server.base_url)
        deadline = time.monotonic() + 120
        while driver.poll() is None and time.monotonic() < deadline:  # the bad line and a document
            if meta.exists() and meta.read_bytes().count(b"\n") >= 2:
                break
            time.sleep(0.05)
        assert driver.poll() is None, (tmp_path / "run.log").read_text()
        driver.send_signal(signal.SIGKILL)
        driver.wait(timeout=30)
        first = meta.read_bytes().count(b"\n")
        assert 2 <= first < len(ITEMS) + 1
        again = cli_build(tmp_path, cluster, server.base_url)
        assert again.wait(timeout=180) == 0, (tmp_path / "run.log").read_text()
    assert outputs(tmp_path / "out") == reference
    sessions = json.loads((tmp_path / "out" / "build.json").read_text())["sessions"]
    assert len(sessions) == 2
    assert sum(json.loads(line)["session"] == sessions[0]["started_at"] for line in lines(meta)) == first


def test_without_ray_the_flag_says_what_to_install(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray fails, as where it is not installed
    monkeypatch.setitem(sys.modules, "ray.data", None)
    result = CliRunner().invoke(
        app,
        ["dataset", "build", str(source(tmp_path)), "-o", str(tmp_path / "out"), "--ray", "auto",
         "--base-url", "http://127.0.0.1:9/v1"],
    )  # fmt: skip
    assert result.exit_code == 2, result.output
    assert result.stderr.strip().splitlines() == [
        "agentwrite: error: --ray needs Ray Data, which is not installed: pip install 'agentwrite[ray]'"
    ]
    assert not (tmp_path / "out").exists()
