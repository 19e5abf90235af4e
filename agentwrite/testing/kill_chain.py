"""The kill chain: a CLI command run in children forked by ``agentwrite.testing.cli_zygote``,
killed with SIGKILL at seeded points (a phase, a model request and seconds after it, or the
outputs' appearance) and restarted until it finishes; ``RunProbes`` say what a killed run
left. ``Pacer`` is the loopback writer that paces the requests the kills aim at."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal, Protocol

from agentwrite.testing import cli_zygote
from agentwrite.testing.fake_writer import writer_handler
from agentwrite.testing.replies import Reply


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
