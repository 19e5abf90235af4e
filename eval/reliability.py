"""Run the reliability drills and print what was injected and what survived, as Markdown.

    .venv/bin/python eval/reliability.py

The drills are the ones the test suite runs (``agentwrite.testing.fault_drill`` and
``kill_drills``): documents written through the fault proxy, ``agentwrite write`` and
``agentwrite dataset build`` killed with SIGKILL at seeded points and restarted, and the
hostile inputs of ``agentwrite.testing.hostile_inputs`` (every command and the LangGraph app,
tried by ``agentwrite.testing.hostile_drill``).
Everything runs against loopback servers; no model is needed. Takes about a minute.
"""

from __future__ import annotations

import asyncio
import os
import platform
import tempfile
import time
from collections import Counter
from pathlib import Path

from agentwrite.testing.fault_drill import fault_run
from agentwrite.testing.hostile_drill import try_case
from agentwrite.testing.hostile_inputs import CASES
from agentwrite.testing.kill_drills import (
    PARALLEL_AIMS,
    SEQUENTIAL_AIMS,
    dataset_kill_drill,
    write_kill_drill,
)
from agentwrite.testing.openai_server import OpenAIServer

FAULT_RUNS = [("sequential", s) for s in (1, 4, 5)] + [("parallel", s) for s in (2, 6)] + [("sketch", 3)]


def hostile_inputs(tmp: Path) -> tuple[int, int, int]:
    """Cases tried, commands they cover, and cases that passed (``try_case``: exit 2, one
    line, no traceback, no model call, nothing written or changed, no secret shown)."""
    passed = 0
    with OpenAIServer() as server:
        for i, case in enumerate(CASES):
            folder = tmp / f"case-{i}"
            folder.mkdir()
            passed += not try_case(case, folder, server)
    return len(CASES), len({c.command for c in CASES}), passed


def main() -> None:
    started = time.monotonic()
    rows = []
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        requests = faulted = sections = lost = 0
        kinds: Counter[str] = Counter()
        for mode, seed in FAULT_RUNS:
            run = asyncio.run(fault_run(mode, seed, rate=0.4, words=3000))
            requests, faulted = requests + run.requests, faulted + run.faulted
            sections, lost = sections + run.planned, lost + run.lost + (run.error is not None) + run.leaked
            kinds.update(str(k) for k in run.faults.elements())
        rows.append(
            (
                f"{len(FAULT_RUNS)} documents through the fault proxy (3 modes)",
                f"{faulted} of {requests} requests faulted ({faulted / requests:.0%}), "
                f"{len(kinds)} kinds of fault",
                f"{sections} sections",
                str(lost),
            )
        )
        for mode, seed, aims in (("sequential", 2024, SEQUENTIAL_AIMS), ("parallel", 7, PARALLEL_AIMS)):
            (tmp / mode).mkdir()
            drill = write_kill_drill(tmp / mode, mode, seed, aims)
            phases = Counter(k.phase for k in drill.chain.kills)
            rows.append(
                (
                    f"`agentwrite write` ({mode}) killed and resumed",
                    f"{len(drill.chain.kills)} SIGKILLs ("
                    + ", ".join(f"{n} in {p}" for p, n in sorted(phases.items()))
                    + ")",
                    f"1 document, {len(drill.expected) - 1} sections",
                    str(drill.lost + (drill.chain.final_code != 0) + len(drill.chain.failed_codes)),
                )
            )
        (tmp / "dataset").mkdir()
        drill = dataset_kill_drill(tmp / "dataset", seed=99, kills=8)
        rows.append(
            (
                "`agentwrite dataset build` killed and rerun",
                f"{len(drill.chain.kills)} SIGKILLs mid-build",
                f"{len(drill.expected)} documents",
                str(drill.lost + (drill.chain.final_code != 0) + len(drill.chain.failed_codes)),
            )
        )
        (tmp / "inputs").mkdir()
        tried, commands, handled = hostile_inputs(tmp / "inputs")
        rows.append(
            (
                f"hostile inputs to {commands - 1} commands and the LangGraph app",
                f"{tried} cases",
                f"{handled} exited 2 in one line, no traceback, no model call, nothing written or "
                "changed, no secret shown",
                str(tried - handled),
            )
        )
    print("| drill | injected | survived | lost |")
    print("|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    cpus = os.cpu_count()
    print(
        f"\n{platform.machine()}, {cpus} CPUs, Python {platform.python_version()}; "
        f"{time.monotonic() - started:.0f} s"
    )


if __name__ == "__main__":
    main()
