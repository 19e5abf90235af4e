"""Scale-out benchmark (issue 14): builds against loopback servers that write at a fixed
rate, at most K requests at once each, as an engine with K sequences would. A script, not
a test.

    .venv/bin/python eval/bench_scale.py --out eval/results/scale_cpu.json
    .venv/bin/python eval/bench_scale.py --skip-ray   # no Ray installed
    .venv/bin/python eval/bench_scale.py --parts dead   # only the dead endpoint

It measures, each from one run:

1. endpoints: dataset-build throughput (completion tokens/s, sequential mode) with 1, 2 and
   4 servers, each build keeping 2 x K documents in flight per server, as a ratio to one
   server (the target is 0.9 x N or better);
2. ray: the 2-server build as a Ray Data job on a local cluster, with 1 and 2 writer
   actors, beside the same build in one process (the cluster's start is in the wall time);
Each server runs in a process of its own. The Ray builds join one local cluster started
before them, so its start-up is not in their wall time.

3. fairness: documents of mixed length (parallel mode: a long one sends many sections at
   once) through one server, the client's bound equal to the server's K, with the waiting
   requests served first come, first served and then by the fairness rule: when documents
   finished, and how long each took from its start.
4. dead: a 12-document build over three servers, and the same build with a fourth URL where
   nothing listens (``http://127.0.0.1:9/v1``, the connection refused), alternately
   ``--repeats`` times, with the client's default retries and probes: the wall time with
   the dead URL against the wall time without it (the target is 1.15 or less).

It prints one Markdown table and writes the raw figures as JSON to ``--out``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import multiprocessing
import platform
import statistics
import sys
import tempfile
import threading
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from agentwrite.dataset.build import BuildProgress, abuild_dataset
from agentwrite.dataset.recipe import Recipe
from agentwrite.llm.endpoints import EndpointPool
from agentwrite.llm.limit import LimitedModel
from agentwrite.llm.openai_compat import OpenAICompatModel
from agentwrite.llm.scheduling import FairLimiter
from agentwrite.settings import Settings
from agentwrite.testing.fake_writer import writer_handler
from agentwrite.testing.openai_server import OpenAIServer
from agentwrite.testing.replies import Reply

log = logging.getLogger("bench_scale")
SECTION_WORDS = 500
REFUSED = "http://127.0.0.1:9/v1"
"""A URL where nothing listens: every connection is refused."""
PARTS = ("endpoints", "ray", "fairness", "dead")
"""Largest section budget: the loopback writer plans the fewest sections the bounds allow,
so a 3,000-word document has six sections and a 900-word one two."""


class PacedEngine:
    """A server's handler: the loopback writer's answer, held for its length over ``rate``
    tokens/s, at most ``slots`` answers at once (the others wait their turn, as sequences
    wait in an engine that is full)."""

    def __init__(self, rate: float, slots: int) -> None:
        self.rate, self.slots = rate, threading.Semaphore(slots)

    def __call__(self, request: dict[str, Any]) -> Reply:
        reply = writer_handler(request)
        with self.slots:
            time.sleep(len((reply.text or "").split()) / self.rate)
        return reply


def _serve(rate: float, slots: int, urls: multiprocessing.Queue, stop: Any) -> None:
    with OpenAIServer(PacedEngine(rate, slots)) as server:
        urls.put(server.base_url)
        stop.wait()


def servers(count: int, rate: float, slots: int, stack: ExitStack) -> list[str]:
    """``count`` paced servers, each in a process of its own (their work stays off the
    client's interpreter); their base URLs. They stop when ``stack`` closes."""
    urls: multiprocessing.Queue[str] = multiprocessing.Queue()
    stop = multiprocessing.Event()
    children = [multiprocessing.Process(target=_serve, args=(rate, slots, urls, stop)) for _ in range(count)]
    for child in children:
        child.start()
    stack.callback(lambda: [stop.set(), *(c.join(10) for c in children)])
    return [urls.get(timeout=60) for _ in children]


def instructions(path: Path, count: int, words: list[int]) -> Path:
    """``count`` instructions, their lengths cycling through ``words``."""
    lines = [
        {
            "prompt": f"Write a {words[i % len(words)]}-word guide to tea garden number {i}.",
            "length": words[i % len(words)],
        }
        for i in range(count)
    ]
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), "utf-8")
    return path


def pool(urls: list[str], slots: int, fair: bool = True) -> LimitedModel:
    clients = [OpenAICompatModel(u, "test-model", timeout=120) for u in urls]
    return LimitedModel(EndpointPool(clients), FairLimiter(slots, fair=fair))


async def timed_build(
    path: Path, out: Path, urls: list[str], in_flight: int, mode: str, bound: int, fair: bool = True
) -> dict[str, Any]:
    """One local build; its wall time, tokens, and when each document finished."""
    finished: list[float] = []
    started = time.monotonic()

    def seen(event: BuildProgress) -> None:
        finished.append(time.monotonic() - started)

    settings = Settings(base_url=urls, model="test-model", mode=mode, max_section_words=SECTION_WORDS)
    stats = await abuild_dataset(
        path, out, settings, pool(urls, bound, fair), recipe=Recipe(concurrency=in_flight), on_event=seen
    )
    wall = time.monotonic() - started
    tokens = stats["usage"]["completion_tokens"]
    return {"wall_s": round(wall, 2), "tokens": tokens, "tokens_per_s": round(tokens / wall, 1),
            "finished_s": [round(f, 2) for f in finished], "endpoints": stats["endpoints"]}  # fmt: skip


def ray_build(path: Path, out: Path, urls: list[str], actors: int, in_flight: int) -> dict[str, Any]:
    from agentwrite.dataset.ray_build import build_dataset_ray

    settings = Settings(
        base_url=urls,
        model="test-model",
        mode="sequential",
        max_inflight=in_flight,
        max_section_words=SECTION_WORDS,
    )
    started = time.monotonic()
    stats = build_dataset_ray(
        path, out, settings, recipe=Recipe(concurrency=in_flight // actors), actors=actors
    )
    wall = time.monotonic() - started
    tokens = stats["usage"]["completion_tokens"]
    return {"wall_s": round(wall, 2), "tokens": tokens, "tokens_per_s": round(tokens / wall, 1)}


def dead_endpoint(root: Path, urls: list[str], repeats: int) -> dict[str, Any]:
    """The same 12-document build over ``urls``, and over ``urls`` and a refused URL, in
    turn ``repeats`` times; the fastest of each, and their ratio."""
    path = instructions(root / "dead.jsonl", 12, [600, 900])
    runs: dict[str, list[dict[str, Any]]] = {"live": [], "with_dead": []}
    for i in range(repeats):
        for name, build_urls in (("live", urls), ("with_dead", [*urls, REFUSED])):
            run = asyncio.run(timed_build(path, root / f"dead-{name}-{i}", build_urls, 12, "sequential", 12))
            runs[name].append(run)
            print(f"{name}: {run['wall_s']} s", file=sys.stderr)
    best = {name: min(r["wall_s"] for r in rows) for name, rows in runs.items()}
    return {"runs": runs, "best_s": best, "ratio": round(best["with_dead"] / best["live"], 3)}


def latency_figures(result: dict[str, Any]) -> dict[str, float]:
    """Finish times of a build's documents: first, median, last, and their spread (p90 - p10)."""
    done = sorted(result["finished_s"])
    deciles = statistics.quantiles(done, n=10)
    spread = round(deciles[-1] - deciles[0], 2)
    return {"first": done[0], "median": round(statistics.median(done), 2), "last": done[-1],
            "spread_p90_p10": spread, "mean": round(statistics.mean(done), 2)}  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, default=150.0, help="Tokens/s of one answer.")
    parser.add_argument("--slots", type=int, default=4, help="K: answers a server writes at once.")
    parser.add_argument("--docs-per-slot", type=int, default=6, help="Documents per server slot in a build.")
    parser.add_argument("--skip-ray", action="store_true", help="Leave out the Ray builds.")
    parser.add_argument("--parts", type=lambda s: s.split(","), default=list(PARTS),
                        help=f"Comma-separated, of {', '.join(PARTS)}.")  # fmt: skip
    parser.add_argument("--repeats", type=int, default=2, help="dead: builds of each kind, in turn.")
    parser.add_argument("--out", type=Path, help="Write the raw figures here as JSON.")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    k = args.slots
    results: dict[str, Any] = {"machine": f"{platform.machine()}, {platform.processor() or 'cpu'}",
                               "rate": args.rate, "slots": k}  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        root = Path(tmp)
        urls = servers(4, args.rate, k, stack)
        if "endpoints" in args.parts:
            results["endpoints"] = {}
            for n in (1, 2, 4):
                path = instructions(root / f"e{n}.jsonl", args.docs_per_slot * k * n, [600, 900])
                run = asyncio.run(
                    timed_build(path, root / f"e{n}", urls[:n], 2 * k * n, "sequential", 2 * k * n)
                )
                results["endpoints"][n] = run
                print(f"{n} endpoint(s): {run['tokens_per_s']} tokens/s", file=sys.stderr)
        if "ray" in args.parts and "endpoints" in args.parts and not args.skip_ray:
            from agentwrite.dataset.ray_build import LOCAL, import_ray

            ray = import_ray(LOCAL)
            ray.init(num_cpus=2, include_dashboard=False)  # started once: builds join it, its start apart
            stack.callback(ray.shutdown)
            path = instructions(root / "ray.jsonl", args.docs_per_slot * k * 2, [600, 900])
            results["ray"] = {"local": results["endpoints"][2]}
            for actors in (1, 2):
                results["ray"][actors] = ray_build(path, root / f"ray{actors}", urls[:2], actors, 4 * k)
                print(f"ray, {actors} actor(s): {results['ray'][actors]}", file=sys.stderr)
        if "fairness" in args.parts:
            path = instructions(root / "fair.jsonl", 4 * k, [3000, 400, 400, 400])
            results["fairness"] = {}
            for fair in (False, True):
                run = asyncio.run(
                    timed_build(path, root / f"fair{fair}", urls[:1], 4 * k, "parallel", k, fair)
                )
                results["fairness"]["fair" if fair else "fifo"] = run | {"figures": latency_figures(run)}
        if "dead" in args.parts:
            results["dead"] = dead_endpoint(root, urls[:3], args.repeats)
    print(table(results))
    if args.out:
        args.out.write_text(json.dumps(results, indent=2) + "\n", "utf-8")
    return 0


def table(results: dict[str, Any]) -> str:
    rows = []
    if "endpoints" in results:
        rows += ["| build | wall s | tokens/s | ratio to 1 endpoint | target |", "|---|---|---|---|---|"]
        one = results["endpoints"][1]["tokens_per_s"]
    for n, run in results.get("endpoints", {}).items():
        rows.append(f"| {n} endpoint(s) | {run['wall_s']} | {run['tokens_per_s']} | "
                    f"{run['tokens_per_s'] / one:.2f} | >= {0.9 * int(n):.1f} |")  # fmt: skip
    for name, run in results.get("ray", {}).items():
        label = "2 endpoints, one process" if name == "local" else f"2 endpoints, Ray, {name} actor(s)"
        rows.append(
            f"| {label} | {run['wall_s']} | {run['tokens_per_s']} | {run['tokens_per_s'] / one:.2f} | |"
        )
    if "fairness" in results:
        rows += [""] * bool(rows)
        rows += ["| waiting requests served | first done s | median s | last s | p90 - p10 s | mean s |",
                 "|---|---|---|---|---|---|"]  # fmt: skip
    for name, run in results.get("fairness", {}).items():
        f = run["figures"]
        label = "first come, first served" if name == "fifo" else "fairness rule"
        rows.append(
            f"| {label} | {f['first']} | {f['median']} | {f['last']} | {f['spread_p90_p10']} | {f['mean']} |"
        )
    if "dead" in results:
        dead = results["dead"]
        walls = {name: ", ".join(str(r["wall_s"]) for r in runs) for name, runs in dead["runs"].items()}
        best = dead["best_s"]
        rows += [""] * bool(rows) + ["| 12-document build | wall s, each run | fastest s | ratio | target |",
                 "|---|---|---|---|---|", f"| 3 endpoints | {walls['live']} | {best['live']} | 1.00 | |",
                 f"| 3 endpoints and {REFUSED} (refused) | {walls['with_dead']} | {best['with_dead']} "
                 f"| {dead['ratio']:.2f} | <= 1.15 |"]  # fmt: skip
    return "\n".join(rows)


if __name__ == "__main__":
    raise SystemExit(main())
