"""Overhead benchmark (issue 27): what the agent costs next to an engine as fast as vLLM on
one H100. A script, not a test.

    .venv/bin/python eval/bench_overhead.py --out eval/results/overhead_cpu.json

A loopback server in a process of its own plays the engine (so that its CPU is counted
apart): every answer streams at ``--rate`` tokens/s (500) in pieces of ``--piece`` tokens (4,
as vLLM streams them), all answers together at most ``--cap`` tokens/s (20,000); the
loopback writer writes one token a word. Against it the agent writes one ``--words``-word
document (10,000) in each mode, as ``agentwrite write`` does: checkpointed in a run folder
(SQLite), progress events on, the loop guard on, and whatever section checks the writer
runs (revising off where the settings have it), after a 1,000-word document in each mode
(imports and first uses apart), ``--repeats`` times (3). For each mode it reports, from the
run with the median ratio (every run's figures are in the JSON, and the table gives each
run's ratio and the machine's load average, one minute, as each run ended):

1. the agent's wall time (the sidecar's) against the server's busy time, the union of the
   intervals with at least one request in flight, and their ratio (target: 1.10 or less);
2. the server's own CPU seconds, and the agent's CPU seconds per 1,000 words, in all and
   apart for the loop guard, the section checks, stream parsing (the OpenAI SDK, httpx, the
   client), checkpointing (LangGraph's saver and serializer, aiosqlite) and the rest, from
   a second run of the same document under a sampling profiler (``eval/cpu_sampler.py``:
   every millisecond, the CPU each thread used since the last look, filed under the part of
   the program it is in; the places that cost most are in the JSON, ``top``);
3. the parallel and sketch speed-ups over sequential, on this server and on the comparison
   the issue made, a server at ``--ms-per-word`` (1.5) milliseconds a word per answer with
   no cap (target: 4x), from each mode's median wall time.

It prints two Markdown tables and writes the raw figures as JSON to ``--out``.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import math
import multiprocessing
import os
import platform
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from cpu_sampler import CATEGORIES, CpuSampler

from agentwrite.domain import WriteMode
from agentwrite.runner import awrite
from agentwrite.settings import Settings
from agentwrite.testing.fake_writer import writer_handler
from agentwrite.testing.openai_server import OpenAIServer
from agentwrite.testing.replies import Reply

MODES: tuple[WriteMode, ...] = ("sequential", "parallel", "sketch")
BRIEF = "Write a {words:,}-word travel guide to Yunnan province for a first-time visitor."


class EnginePace:
    """An engine's pacing: each answer at ``rate`` tokens/s, all answers together at most
    ``cap`` tokens/s. ``for_answer()`` gives one answer's ``Reply.pace``.

    >>> pace = EnginePace(rate=500, cap=math.inf).for_answer()
    >>> [round(pace(4), 3) > 0.0 for _ in range(2)]
    [True, True]
    """

    def __init__(self, rate: float, cap: float) -> None:
        self.rate, self.cap = rate, cap
        self._lock = threading.Lock()
        self._engine_free = 0.0  # when the engine, shared, has written every token asked of it so far

    def for_answer(self) -> Callable[[int], float]:
        due = time.monotonic()

        def pace(tokens: int) -> float:
            nonlocal due
            with self._lock:
                now = time.monotonic()
                self._engine_free = max(self._engine_free, now) + tokens / self.cap
                due = max(due + tokens / self.rate, self._engine_free)
            return max(0.0, due - now)

        return pace


class BusyServer(OpenAIServer):
    """The loopback server, counting the time with at least one completion in flight."""

    def __init__(self, pace: EnginePace, piece: int) -> None:
        super().__init__(self._answer)
        self.engine, self.piece = pace, piece
        self._busy_since: float | None = None
        self.busy = 0.0

    def _answer(self, request: dict[str, Any]) -> Reply:
        reply = writer_handler(request)
        return dataclasses.replace(reply, words_per_event=self.piece, pace=self.engine.for_answer())

    def _enter_request(self) -> None:
        with self._lock:
            if self.in_flight == 0:
                self._busy_since = time.monotonic()
            self.in_flight += 1

    def _leave_request(self) -> None:
        with self._lock:
            self.in_flight -= 1
            if self.in_flight == 0 and self._busy_since is not None:
                self.busy += time.monotonic() - self._busy_since
                self._busy_since = None


def _serve(rate: float, cap: float, piece: int, pipe: Connection) -> None:
    """The server process: its URL, then its busy time and CPU whenever asked, until told to stop."""
    with BusyServer(EnginePace(rate, cap), piece) as server:
        pipe.send(server.base_url)
        while pipe.recv() == "figures":
            server.wait_idle()
            pipe.send({"busy_s": server.busy, "cpu_s": time.process_time()})


class EngineProcess:
    """A ``BusyServer`` in a child process, as a context manager."""

    def __init__(self, rate: float, cap: float, piece: int) -> None:
        self._pipe, child = multiprocessing.Pipe()
        self._process = multiprocessing.Process(target=_serve, args=(rate, cap, piece, child), daemon=True)

    def __enter__(self) -> EngineProcess:
        self._process.start()
        self.base_url: str = self._pipe.recv()
        return self

    def figures(self) -> dict[str, float]:
        """The server's busy time and its process's CPU, both counted from its start."""
        self._pipe.send("figures")
        answer: dict[str, float] = self._pipe.recv()
        return answer

    def __exit__(self, *exc_info: object) -> None:
        self._pipe.send("stop")
        self._process.join(10)


def settings_for(base_url: str, mode: WriteMode) -> Settings:
    """The run's settings: the defaults (loop guard on), revising off where there is such a setting."""
    overrides: dict[str, Any] = {"base_url": base_url, "model": "test-model", "mode": mode}
    overrides |= {"revise": False} if "revise" in Settings.model_fields else {}
    return Settings(**overrides)


async def one_document(engine: EngineProcess, mode: WriteMode, words: int, folder: Path) -> dict[str, Any]:
    """One document written as ``agentwrite write`` writes it; the agent's and the server's figures."""
    events = 0

    def listen(event: object) -> None:  # a progress display's place: the events are streamed
        nonlocal events
        events += 1

    before, cpu = engine.figures(), time.process_time()
    doc = await awrite(
        BRIEF.format(words=words), settings=settings_for(engine.base_url, mode), words=words,
        run_dir=folder, on_event=listen,
    )  # fmt: skip
    agent_cpu = time.process_time() - cpu
    after = engine.figures()
    busy = after["busy_s"] - before["busy_s"]
    return {
        "mode": mode, "words": doc.words, "sections": len(doc.sections), "requests": doc.usage.requests,
        "completion_tokens": doc.usage.completion_tokens, "events": events,
        "wall_s": doc.wall_seconds, "busy_s": busy, "wall_over_busy": doc.wall_seconds / busy,
        "server_cpu_s": after["cpu_s"] - before["cpu_s"], "agent_cpu_s": agent_cpu,
        "load": os.getloadavg()[0],
    }  # fmt: skip


async def profiled_document(
    engine: EngineProcess, mode: WriteMode, words: int, folder: Path
) -> dict[str, Any]:
    """The same document again under the sampling profiler: its CPU by part."""
    with CpuSampler() as sampler:
        row = await one_document(engine, mode, words, folder)
    return {"agent_cpu_s": row["agent_cpu_s"], "words": row["words"], **sampler.report()}


def median_run(rows: list[dict[str, Any]], key: str) -> dict[str, Any]:
    """The run whose ``key`` is the median (the lower of the two middle ones), with every
    run's figures under ``runs``: on a machine shared with other work single runs vary.

    >>> median_run([{"x": 3}, {"x": 1}, {"x": 2}], "x")["x"]
    2
    """
    ranked = sorted(rows, key=lambda row: row[key])
    return {**ranked[(len(ranked) - 1) // 2], "runs": rows}


def run(args: argparse.Namespace) -> dict[str, Any]:
    server = {"rate": args.rate, "cap": args.cap, "piece": args.piece}
    result: dict[str, Any] = {"machine": args.machine, "python": platform.python_version()}
    result |= {"words": args.words, "server": server, "repeats": args.repeats, "cpus": os.cpu_count()}
    with tempfile.TemporaryDirectory(prefix="bench-overhead-") as tmp:
        root = Path(tmp)
        with EngineProcess(args.rate, args.cap, args.piece) as engine:
            for mode in MODES:  # a short document in each mode first: imports and first uses apart
                asyncio.run(one_document(engine, mode, 1000, root / f"{mode}-warm.run"))
            result["modes"] = {}
            for mode in MODES:
                rows = [
                    asyncio.run(one_document(engine, mode, args.words, root / f"{mode}-{i}.run"))
                    for i in range(args.repeats)
                ]
                row = median_run(rows, "wall_over_busy")
                row["profile"] = asyncio.run(
                    profiled_document(engine, mode, args.words, root / f"{mode}-p.run")
                )
                result["modes"][mode] = row
                print(f"{mode}: {row['wall_s']:.2f} s, busy {row['busy_s']:.2f} s", file=sys.stderr)
        rate = 1 / (args.ms_per_word / 1000)
        with EngineProcess(rate, math.inf, args.piece) as engine:
            result["comparison"] = {"ms_per_word": args.ms_per_word, "modes": {}}
            for mode in MODES:
                rows = [
                    asyncio.run(one_document(engine, mode, args.words, root / f"{mode}-c{i}.run"))
                    for i in range(args.repeats)
                ]
                row = median_run(rows, "wall_s")
                result["comparison"]["modes"][mode] = row
                print(f"{mode} at {args.ms_per_word} ms a word: {row['wall_s']:.2f} s", file=sys.stderr)
    return result


def per_thousand(seconds: float, words: int) -> str:
    """CPU seconds per 1,000 words, as the table shows them.

    >>> per_thousand(0.25, 10_000)
    '0.025'
    """
    return f"{seconds * 1000 / words:.3f}" if words else "n/a"


def table(result: dict[str, Any]) -> str:
    head = [
        "mode",
        "agent wall s",
        "server busy s",
        "wall / busy",
        "wall / busy, each run",
        "load",
        "server CPU s",
        "agent CPU s / 1,000 words",
    ]
    head += [f"{c} / 1,000 words" for c in CATEGORIES] + ["words", "requests"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for mode, row in result["modes"].items():
        profile = row["profile"]
        parts = [per_thousand(profile["cpu_s"][c], profile["words"]) for c in CATEGORIES]
        each = ", ".join(f"{r['wall_over_busy']:.3f}" for r in row["runs"])
        loads = [r["load"] for r in row["runs"]]
        cells = [mode, f"{row['wall_s']:.2f}", f"{row['busy_s']:.2f}", f"{row['wall_over_busy']:.3f}", each,
                 f"{min(loads):.1f} to {max(loads):.1f}", f"{row['server_cpu_s']:.2f}",
                 per_thousand(row["agent_cpu_s"], row["words"]), *parts,
                 f"{row['words']:,}", str(row["requests"])]  # fmt: skip
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", "| server | sequential s | parallel s | sketch s | parallel speed-up | sketch speed-up"
              " | load |", "|---|---|---|---|---|---|---|"]  # fmt: skip
    server = result["server"]
    for label, modes in (
        (f"{server['rate']:g} tokens/s an answer, {server['cap']:,.0f} in all", result["modes"]),
        (f"{result['comparison']['ms_per_word']:g} ms a word, no cap", result["comparison"]["modes"]),
    ):
        walls = [modes[m]["wall_s"] for m in MODES]
        loads = [r["load"] for m in MODES for r in modes[m]["runs"]]
        lines.append(f"| {label} | " + " | ".join(f"{w:.2f}" for w in walls)
                     + f" | {walls[0] / walls[1]:.2f}x | {walls[0] / walls[2]:.2f}x"
                     + f" | {min(loads):.1f} to {max(loads):.1f} |")  # fmt: skip
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--words", type=int, default=10_000, help="Word target of each document.")
    parser.add_argument("--rate", type=float, default=500.0, help="Tokens/s of one answer.")
    parser.add_argument("--cap", type=float, default=20_000.0, help="Tokens/s of all answers together.")
    parser.add_argument("--piece", type=int, default=4, help="Tokens in each streamed piece.")
    parser.add_argument("--ms-per-word", type=float, default=1.5, help="The comparison server's speed.")
    parser.add_argument(
        "--repeats", type=int, default=3, help="Documents a mode and server; the median is shown."
    )
    parser.add_argument("--machine", default=platform.node(), help="What to call the machine in the results.")
    parser.add_argument("--out", type=Path, help="Write the raw figures here as JSON.")
    args = parser.parse_args(argv)
    result = run(args)
    print(f"Machine: {result['machine']}\n\n{table(result)}")
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=1) + "\n", "utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
