"""Start-up benchmark (issue 26): what starting the bundled model's vLLM server costs, and how
fast it then writes, for each way of starting it. A script, not a test.

    .venv/bin/python eval/bench_start.py --variant default --variant eager \\
        --variant eager,bind=0-1 --out eval/results/start-cpu.json

A variant is a comma-separated list: ``default``, ``eager`` (``--enforce-eager``, no
torch.compile warm-up), ``bind=CPUS`` (``VLLM_CPU_OMP_THREADS_BIND``, e.g. ``0-1``),
``cold`` (an empty ``VLLM_CACHE_ROOT``, so no compiled graph is reused). For each it starts a
server (``agentwrite.llm.vllm_server.VLLMServer``, with the flags ``agentwrite serve`` passes), reads
the phases of the start from its log (imports and config, engine process, model load,
warm-up, ready), then measures completion tokens/s of N concurrent requests of exactly
``--tokens`` tokens (``bench_speed.ceiling``), and stops it. It prints one Markdown table with
the load average before each start, and writes the raw figures as JSON to ``--out``.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import re
import sys
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

from bench_speed import ceiling

from agentwrite.llm.base import GenerationParams
from agentwrite.llm.openai_compat import OpenAICompatModel
from agentwrite.llm.vllm_server import VLLMServer

PHASES = {
    "engine": "Initializing a V1 LLM engine",
    "load": "Starting to load model",
    "warmup": "Warming up model",
    "warmed": "Warming up done",
    "routes": "Starting vLLM server on",
}
"""Log lines that open each phase of a start, by the name used in the results."""
_STAMP = re.compile(r"\b(\d\d-\d\d \d\d:\d\d:\d\d)\b")


def phase_times(log: str, year: int) -> dict[str, datetime]:
    """When each phase's first log line was written.

    >>> phase_times("(Worker pid=1) INFO 12-07 05:51:31 [x.py:87] Warming up model for it", 2026)
    {'warmup': datetime.datetime(2026, 12, 7, 5, 51, 31)}
    """
    found: dict[str, datetime] = {}
    for line in log.splitlines():
        for name, marker in PHASES.items():
            stamp = _STAMP.search(line)
            if name not in found and marker in line and stamp:
                found[name] = datetime.strptime(f"{year}-{stamp.group(1)}", "%Y-%m-%d %H:%M:%S")
    return found


def parse_variant(text: str) -> tuple[list[str], dict[str, str]]:
    """vLLM flags and environment of a variant.

    >>> parse_variant("eager,bind=0-1")
    (['--enforce-eager'], {'VLLM_CPU_OMP_THREADS_BIND': '0-1'})
    """
    flags: list[str] = []
    env: dict[str, str] = {}
    for part in filter(None, text.split(",")):
        if part == "eager":
            flags.append("--enforce-eager")
        elif part.startswith("bind="):
            env["VLLM_CPU_OMP_THREADS_BIND"] = part.removeprefix("bind=")
        elif part == "cold":
            env["VLLM_CACHE_ROOT"] = tempfile.mkdtemp(prefix="bench-start-vllm-cache-")
        elif part != "default":
            raise ValueError(f"unknown variant part {part!r}")
    return flags, env


async def speed(server: VLLMServer, concurrency: list[int], tokens: int) -> list[dict[str, Any]]:
    model = OpenAICompatModel(server.base_url, server.model_name)
    try:
        await model.complete([{"role": "user", "content": "Say hello."}], GenerationParams(max_tokens=16))
        return [await ceiling(model, n, tokens) for n in concurrency]
    finally:
        await model.aclose()


def measure(variant: str, concurrency: list[int], tokens: int) -> dict[str, Any]:
    flags, env = parse_variant(variant)
    load = os.getloadavg()
    started = datetime.now()
    server = VLLMServer("bundled", extra_args=flags, env={**os.environ, **env}, startup_timeout=1800)
    with server.start():
        ready = datetime.now()
        rows = asyncio.run(speed(server, concurrency, tokens))
    marks = {"start": started, **phase_times(server.log_path.read_text("utf-8", "replace"), started.year)}
    marks["ready"] = ready
    return {
        "variant": variant,
        "load_before": load,
        "start_s": server.startup_seconds,
        "phases_s": {a: (marks[b] - marks[a]).total_seconds() for a, b in itertools.pairwise(marks)},
        "speed": rows,
        "log": str(server.log_path),
    }


def table(results: list[dict[str, Any]]) -> str:
    levels = [row["n"] for row in results[0]["speed"]]
    head = (
        "| variant | load (1 min) | start s | phases s | "
        + " | ".join(f"tok/s at {n}" for n in levels)
        + " |"
    )
    lines = [head, "|" + "---|" * (4 + len(levels))]
    for r in results:
        phases = ", ".join(f"{k} {v:.0f}" for k, v in r["phases_s"].items())
        speeds = " | ".join(f"{row['tokens_per_s']:.1f}" for row in r["speed"])
        lines.append(
            f"| {r['variant']} | {r['load_before'][0]:.1f} | {r['start_s']:.0f} | {phases} | {speeds} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--variant", action="append", required=True, help="see above; repeat to compare")
    parser.add_argument("--concurrency", type=lambda s: [int(x) for x in s.split(",")], default=[1, 8])
    parser.add_argument("--tokens", type=int, default=128, help="tokens per request")
    parser.add_argument("--out", type=Path, required=True, help="JSON file for the raw figures")
    args = parser.parse_args(argv)
    results = []
    for variant in args.variant:
        results.append(measure(variant, args.concurrency, args.tokens))
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(results, indent=1, default=str), "utf-8")
    print(table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
