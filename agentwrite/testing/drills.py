"""Reliability drills, shared by the tests (which assert on them) and ``eval/reliability.py``
(which tabulates them). Each drill returns a record of what was injected and what survived.

- ``fault_run``: one document through the fault proxy, in process.
- ``kill_chain``: a CLI command (``write`` or ``dataset build``) run in forked children that
  are killed with SIGKILL at seeded points and restarted until it finishes.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal, Protocol

from agentwrite.events import Event, SectionDone
from agentwrite.run_folder import RUN_FILE
from agentwrite.settings import Settings
from agentwrite.testing import cli_zygote
from agentwrite.testing.fake_writer import writer_handler
from agentwrite.testing.fault_proxy import MARKER, Fault, FaultProxy, seeded
from agentwrite.testing.openai_server import OpenAIServer
from agentwrite.testing.replies import Reply

BRIEF = "Write a travel guide to the old tea road of Yunnan for a first-time visitor."
SECTION_WORDS = 500
"""The drills' largest section budget: the loopback writer plans the fewest sections the
budget bounds allow, so a 3,000-word document has six sections (enough requests to aim at)."""


def fault_settings(base_url: str, mode: str, **extra: Any) -> Settings:
    """Settings for a run against a faulting server: short timeouts, quick retries."""
    values: dict[str, Any] = {
        "base_url": base_url,
        "model": "test-model",
        "mode": mode,
        "timeout": 0.5,
        "connect_timeout": 0.5,
        "max_retries": 8,
        "retry_base_delay": 0.01,
        "retry_max_delay": 0.05,
        "max_section_words": SECTION_WORDS,
    }
    return Settings(**(values | extra))


@dataclass
class FaultRun:
    """One document written through the fault proxy."""

    mode: str
    requests: int
    faults: Counter[Fault]
    planned: int
    sections: list[int]
    done_events: Counter[int]
    leaked: bool
    error: str | None = None

    @property
    def faulted(self) -> int:
        return sum(self.faults.values())

    @property
    def lost(self) -> int:
        """Planned sections missing from the document, or written more than once."""
        missing = self.planned - len(set(self.sections))
        twice = sum(n - 1 for n in self.done_events.values() if n > 1)
        return missing + twice


async def fault_run(mode: str, seed: int, rate: float = 0.4, words: int = 3000) -> FaultRun:
    """Write one ``words``-word document with ``rate`` of its requests faulted."""
    from agentwrite.runner import awrite

    events: list[Event] = []
    with (
        OpenAIServer() as upstream,
        FaultProxy(upstream.base_url, seeded(rate, seed), stall=1.0, delay=0.05, hold=0.1) as proxy,
    ):
        try:
            doc = await awrite(
                BRIEF, settings=fault_settings(proxy.base_url, mode), words=words, on_event=events.append
            )
        except Exception as exc:  # the record says what went wrong; the test asserts there is none
            return FaultRun(mode, proxy.requests, proxy.counts(), 0, [], Counter(), False, repr(exc))
    done = Counter(e.section.index for e in events if isinstance(e, SectionDone))
    text = doc.markdown + json.dumps(doc.sidecar(), ensure_ascii=False)
    leaked = MARKER in text or "Bad Gateway" in text
    return FaultRun(
        mode, proxy.requests, proxy.counts(), len(doc.plan.sections), [s.index for s in doc.sections], done,
        leaked,
    )  # fmt: skip


# Kill drills -----------------------------------------------------------------------------------


class Zygote:
    """Client of ``agentwrite.testing.cli_zygote``: forked CLI runs that can be killed."""

    def __init__(self) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AGENTWRITE_", "OPENAI_"))}
        # started in the folder that holds this package, which ``-m`` puts first on sys.path:
        # the zygote imports this very package, installed or not
        self._proc = subprocess.Popen(
            [sys.executable, "-m", cli_zygote.__name__],
            cwd=Path(cli_zygote.__file__).resolve().parents[2],
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def _ask(self, request: dict[str, Any]) -> dict[str, Any]:
        assert self._proc.stdin is not None and self._proc.stdout is not None
        self._proc.stdin.write(json.dumps(request) + "\n")
        self._proc.stdin.flush()
        return json.loads(self._proc.stdout.readline())

    def start(self, argv: list[str], cwd: Path, log: Path, env: dict[str, str] | None = None) -> int:
        return int(self._ask({"argv": argv, "cwd": str(cwd), "log": str(log), "env": env or {}})["pid"])

    def poll(self, pid: int) -> int | None:
        """The exit code when the run has ended, else None."""
        answer = self._ask({"poll": pid})
        return answer.get("code")

    def wait(self, pid: int) -> int:
        return int(self._ask({"wait": pid})["code"])

    def kill(self, pid: int) -> int:
        os.kill(pid, signal.SIGKILL)
        return self.wait(pid)

    def close(self) -> None:
        assert self._proc.stdin is not None
        self._proc.stdin.close()
        self._proc.wait(timeout=10)


@contextmanager
def zygote() -> Iterator[Zygote]:
    z = Zygote()
    try:
        yield z
    finally:
        z.close()


class Pacer:
    """A writer handler that takes ``delay`` seconds a request and counts arrivals."""

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.count = 0
        self._cond = threading.Condition()

    def __call__(self, request: dict[str, Any]) -> Reply:
        with self._cond:
            self.count += 1
            self._cond.notify_all()
        return replace(writer_handler(request), delay=self.delay)

    def wait_for(self, count: int, timeout: float) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: self.count >= count, timeout=timeout)


Aim = Literal["plan", "write", "request", "outputs"]


@dataclass(frozen=True)
class KillPlan:
    """What a kill chain runs, and where its kills go.

    ``argv`` runs in ``cwd`` and is killed once per entry of ``aims``, at points drawn from
    ``seed``. A restart adds ``resume_flag`` when given (and the killed run left something to
    continue). ``output`` is the file an ``"outputs"`` aim waits for.
    """

    argv: tuple[str, ...]
    cwd: Path
    aims: tuple[Aim, ...]
    seed: int
    resume_flag: str | None = None
    output: Path | None = None


class RunProbes(Protocol):
    """What a kill chain asks of the command's state between starts."""

    def remaining(self) -> int:
        """Model requests a start would still make."""
        ...

    def phase(self) -> str:
        """Where a killed run stopped."""
        ...

    def reset(self) -> None:
        """Remove what a run left, so that the next start begins afresh."""
        ...

    def resumable(self) -> bool:
        """Whether a killed run left something to resume."""
        ...


@dataclass
class Kill:
    """One SIGKILL: what it was aimed at (a phase, a request of this process and seconds
    after it), and where it landed."""

    aim: Aim
    request: int
    offset: float
    phase: str


@dataclass
class Chain:
    """A command killed and restarted until it finished."""

    kills: list[Kill] = field(default_factory=list)
    missed: int = 0
    failed_codes: list[int] = field(default_factory=list)
    starts: int = 0
    final_code: int | None = None
    log: str = ""


def kill_chain(z: Zygote, pacer: Pacer, plan: KillPlan, probes: RunProbes) -> Chain:
    """Run ``plan.argv``, kill it once per aim and restart it each time (with the resume flag
    when the killed run left something to continue, as a supervisor script would), then let
    it finish.

    An aim says where to kill: ``"plan"`` up to 0.8 request delays after the first request
    (the planner's); ``"write"`` or ``"request"`` up to 1.3 delays after a request drawn from
    those left (past the planner's for ``"write"``); ``"outputs"`` as soon as the output or
    its temporary file appears. A run that finishes before its kill lands counts as missed
    and is started over after ``probes.reset()``, as is a run with nothing left but
    stitching, once it has finished.
    """
    rng = random.Random(plan.seed)
    chain = Chain()
    pending = list(plan.aims)
    while True:
        chain.starts += 1
        log = plan.cwd / f"run-{chain.starts}.log"
        left = probes.remaining()
        first = pacer.count
        resume = plan.resume_flag is not None and chain.starts > 1 and probes.resumable()
        flags = [plan.resume_flag] if resume and plan.resume_flag else []
        pid = z.start([*plan.argv, *flags], plan.cwd, log)
        if not pending:
            chain.final_code = z.wait(pid)
            chain.log = log.read_text("utf-8", "replace")
            return chain
        if left == 0:  # only stitching is left: let it finish, then start over
            if (finished := z.wait(pid)) != 0:
                chain.failed_codes.append(finished)
            probes.reset()
            continue
        aim = pending[0]
        if aim == "outputs":
            output = plan.output
            assert output is not None
            temporary = output.with_name(f".{output.name}.tmp")
            code = _wait(z, pid, lambda: output.exists() or temporary.exists())  # noqa: B023
            request, offset = left, 0.0
        else:
            if aim == "plan":
                request, offset = 1, rng.uniform(0.0, 0.8 * pacer.delay)
            else:
                low = 2 if aim == "write" and left > 1 else 1
                request, offset = rng.randint(low, left), rng.uniform(0.0, 1.3 * pacer.delay)
            target = first + request
            code = _wait(z, pid, lambda: pacer.wait_for(target, timeout=0.02))  # noqa: B023
            if code is None:
                time.sleep(offset)
                code = z.poll(pid)
        if code is not None:
            chain.missed += 1
            if code != 0:
                chain.failed_codes.append(code)
            probes.reset()
            continue
        z.kill(pid)
        pending.pop(0)
        chain.kills.append(Kill(aim, request, round(offset, 3), probes.phase()))


def _wait(z: Zygote, pid: int, ready: Callable[[], bool]) -> int | None:
    """Poll until ``ready()``; the exit code instead if the run ends first."""
    while not ready():
        if (code := z.poll(pid)) is not None:
            return code
        time.sleep(0.002)
    return None


def read_lines(path: Path) -> list[dict[str, Any]]:
    """Records of a JSONL file; AssertionError for a partial or bad line."""
    data = path.read_bytes() if path.exists() else b""
    assert not data or data.endswith(b"\n"), f"{path} ends in a partial line"
    return [json.loads(line) for line in data.splitlines()]


# The two kill drills, as the tests and eval/reliability.py run them ---------------------------

WORDS = 2500
SECTIONS = WORDS // SECTION_WORDS
SEQUENTIAL_AIMS: tuple[Aim, ...] = (
    "plan", "write", "write", "outputs", "plan", "write", "write", "write", "outputs", "write",
)  # fmt: skip
PARALLEL_AIMS: tuple[Aim, ...] = ("plan", "write", "outputs", "write")
INSTRUCTIONS = [
    {"id": f"tea-{i}", "prompt": f"Write a 700-word essay on tea custom {i}.", "type": "essay", "length": 700}
    for i in range(1, 7)
]


@dataclass
class KillDrill:
    """A kill chain and how its final outputs compare with a clean run's."""

    chain: Chain
    expected: dict[str, Any]
    got: dict[str, Any]
    leftovers: list[str]

    @property
    def lost(self) -> int:
        """Items (sections or documents) of the clean run that differ or are missing."""
        return sum(1 for k, v in self.expected.items() if self.got.get(k) != v) + len(self.leftovers)


def _clear(folder: Path) -> None:
    """Remove everything in ``folder`` but the logs."""
    for path in folder.iterdir():
        if not path.name.endswith(".log"):
            shutil.rmtree(path) if path.is_dir() else path.unlink()


@dataclass(frozen=True)
class DocumentProbes:
    """An ``agentwrite write`` of ``sections`` sections to ``output``, run in ``folder``."""

    folder: Path
    output: Path
    sections: int

    @property
    def run_dir(self) -> Path:
        return self.output.with_name(f"{self.output.name}.run")

    def state(self) -> dict[str, Any]:
        """The checkpointed state a killed run left in its run folder (empty if none)."""
        from agentwrite.runner import aread_run

        return asyncio.run(aread_run(self.run_dir))

    def remaining(self) -> int:
        """One plan request unless the plan is checkpointed, and one per section not yet."""
        state = self.state()
        if state.get("plan") is None:
            return 1 + self.sections
        return self.sections - len(state.get("sections", []))

    def phase(self) -> str:
        """start, plan, write, or stitch (which takes in the writing of the outputs and the
        removal of the run folder)."""
        state = self.state()
        plan = state.get("plan")
        if not state:
            return "stitch" if self.output.exists() else "start"
        if plan is None:
            return "plan"
        return "write" if len(state.get("sections", [])) < len(plan.sections) else "stitch"

    def reset(self) -> None:
        _clear(self.folder)

    def resumable(self) -> bool:
        return (self.run_dir / RUN_FILE).exists()


def _document_outputs(folder: Path) -> dict[str, Any]:
    """Each section of the written document by index: (title, its text), from whole files."""
    markdown = (folder / "doc.md").read_bytes()
    sidecar = (folder / "doc.md.json").read_bytes()
    assert markdown.endswith(b"\n") and sidecar.endswith(b"\n"), "a partial last line"
    sections = json.loads(sidecar)["sections"]
    return {str(s["index"]): (s["title"], s["text"]) for s in sections} | {"markdown": markdown}


def write_kill_drill(tmp: Path, mode: str, seed: int, aims: tuple[Aim, ...]) -> KillDrill:
    """``agentwrite write`` killed once per aim and resumed, against a clean run."""
    pacer = Pacer(delay=0.12)
    clean, work = tmp / "clean", tmp / "killed"
    clean.mkdir()
    work.mkdir()
    argv = [
        "write",
        BRIEF,
        "--words",
        str(WORDS),
        "--max-section-words",
        str(SECTION_WORDS),
        "-o",
        "doc.md",
        "--mode",
        mode,
        "--model",
        "test-model",
        "-q",
    ]
    with OpenAIServer(pacer) as server, zygote() as z:
        argv += ["--base-url", server.base_url]
        assert z.wait(z.start(argv, clean, clean / "run.log")) == 0
        plan = KillPlan(tuple(argv), work, aims, seed, resume_flag="--resume", output=work / "doc.md")
        chain = kill_chain(z, pacer, plan, DocumentProbes(work, work / "doc.md", SECTIONS))
    expected = _document_outputs(clean)
    got = _document_outputs(work) if chain.final_code == 0 else {}
    leftovers = sorted(p.name for p in work.iterdir() if p.name not in ("doc.md", "doc.md.json"))
    return KillDrill(chain, expected, got, [n for n in leftovers if not n.endswith(".log")])


@dataclass(frozen=True)
class BuildProbes:
    """An ``agentwrite dataset build`` of ``documents`` documents into ``build``; two model
    requests a document, and a rerun continues from the committed lines by itself."""

    build: Path
    documents: int

    def committed(self) -> int:
        meta = self.build / "meta.jsonl"
        return len(read_lines(meta)) if meta.exists() else 0

    def remaining(self) -> int:
        return 2 * (self.documents - self.committed())

    def phase(self) -> str:
        return f"build ({self.committed()} committed)"

    def reset(self) -> None:
        shutil.rmtree(self.build, ignore_errors=True)

    def resumable(self) -> bool:
        return True


def _build_outputs(build: Path) -> dict[str, Any]:
    """Each instruction id: (status, section count, its training example), from whole lines."""
    meta = read_lines(build / "meta.jsonl")
    train = iter(read_lines(build / "train.jsonl"))
    read_lines(build / "rejects.jsonl")
    return {
        m["id"]: (m["status"], len(m.get("sections", [])), next(train) if m["status"] == "accepted" else None)
        for m in meta
    }


def dataset_kill_drill(tmp: Path, seed: int, kills: int) -> KillDrill:
    """``agentwrite dataset build`` killed ``kills`` times and rerun, against a clean build."""
    pacer = Pacer(delay=0.08)
    clean, work = tmp / "clean", tmp / "killed"
    lines = "".join(json.dumps(i) + "\n" for i in INSTRUCTIONS)
    for folder in (clean, work):
        folder.mkdir()
        (folder / "instructions.jsonl").write_text(lines, "utf-8")
    argv = [
        "dataset",
        "build",
        "instructions.jsonl",
        "-o",
        "build",
        "--concurrency",
        "2",
        "--model",
        "test-model",
    ]
    with OpenAIServer(pacer) as server, zygote() as z:
        argv += ["--base-url", server.base_url, "-q"]
        assert z.wait(z.start(argv, clean, clean / "run.log")) == 0
        anywhere: Aim = "request"
        plan = KillPlan(tuple(argv), work, (anywhere,) * kills, seed)
        chain = kill_chain(z, pacer, plan, BuildProbes(work / "build", len(INSTRUCTIONS)))
    expected = _build_outputs(clean / "build")
    got = _build_outputs(work / "build") if chain.final_code == 0 else {}
    return KillDrill(chain, expected, got, [])


__all__ = [
    "BRIEF",
    "INSTRUCTIONS",
    "PARALLEL_AIMS",
    "SECTIONS",
    "SEQUENTIAL_AIMS",
    "Aim",
    "BuildProbes",
    "Chain",
    "DocumentProbes",
    "FaultRun",
    "Kill",
    "KillDrill",
    "KillPlan",
    "Pacer",
    "RunProbes",
    "Zygote",
    "dataset_kill_drill",
    "fault_run",
    "fault_settings",
    "kill_chain",
    "read_lines",
    "write_kill_drill",
    "zygote",
]
