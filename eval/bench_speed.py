"""Speed benchmark: the agent against the engine's own limit (issue 7). A script, not a test.

    .venv/bin/python eval/bench_speed.py run --words 2000 --out eval/results/speed-cpu.json
    .venv/bin/python eval/bench_speed.py run --base-url http://127.0.0.1:8000/v1 --model smol ...
    .venv/bin/python eval/bench_speed.py report eval/results/speed-cpu.json

``run`` starts a vLLM server with the bundled model (``agentwrite.llm.vllm_server.VLLMServer``) unless
``--base-url`` names one, then measures:

1. ceiling: aggregate completion tokens/s of N concurrent plain requests, each forced to
   exactly ``--ceiling-tokens`` tokens (``min_tokens = max_tokens``);
2. overhead: each mode's document as the agent wrote it versus the same requests replayed
   straight at the engine (same prompts, each forced to the length the agent got, each
   started once every request that had finished before it started in the agent's run has
   finished again); the ratio is agent wall / replay wall;
3. modes: wall time of a ``--words`` target in each mode (one shared plan, made first and
   timed on its own), as ratios to sequential, with judge-free coherence figures;
4. scaling: dataset-build throughput (``agentwrite.dataset.build.abuild_dataset``, sequential
   mode) with 1, 4 and 16 documents in flight, as a fraction of the ceiling at that concurrency.

It prints one Markdown table and writes the raw numbers (and each mode's section texts) as
JSON to ``--out``. ``report`` prints the table again from one or more such files, merged,
filling in embedding-based coherence where the measuring host could not load the model.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import platform
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agentwrite.domain import Plan, SectionPlan, WriteMode
from agentwrite.errors import ModelError, PlanError
from agentwrite.evaluation.embeddings import Embedder, EmbeddingUnavailable, load_embedder
from agentwrite.evaluation.text_figures import text_figures
from agentwrite.llm.base import ChatModel, Completion, ForwardingModel, GenerationParams, Message
from agentwrite.llm.limit import LimitedModel
from agentwrite.runner import aplan, awrite
from agentwrite.settings import Settings

log = logging.getLogger("bench_speed")

MODES: tuple[WriteMode, ...] = ("sequential", "parallel", "sketch")
BRIEF = (
    "Write a {words}-word travel guide to Yunnan province in China for a first-time visitor: "
    "its regions and peoples, the old towns, tea and food, mountains and rivers, getting around, "
    "seasons, costs and etiquette."
)
PLACES = (
    "Regions and peoples", "Kunming", "Dali", "Lijiang", "Shangri-La", "Xishuangbanna", "Tea country",
    "Food", "Tiger Leaping Gorge", "Yuanyang rice terraces", "Jianshui", "Getting around", "Seasons",
    "Costs", "Etiquette", "Festivals", "Practical advice",
)  # fmt: skip
TOPICS = (
    "the history of the bicycle", "coral reefs and their decline", "how bread is made by hand",
    "the first year of learning the violin", "lighthouses of the Atlantic coast",
    "the economics of small bookshops", "caring for an old apple orchard", "the life of a river delta",
    "building a wooden boat", "night trains of Europe", "the science of sleep", "urban beekeeping",
    "the silk road's trading towns", "a guide to winter camping", "the making of paper maps",
    "how volcanoes shape islands",
)  # fmt: skip


@dataclass
class Call:
    """One request as the agent made it, and what came back."""

    messages: list[Message]
    params: GenerationParams
    started: float
    ended: float
    completion_tokens: int
    prompt_tokens: int
    cached_tokens: int


class RecordingModel(ForwardingModel):
    """A ChatModel wrapper that records every request with its timing and usage.

    It passes on what the server behind it declares (context window, capabilities); closing
    it leaves the shared client open.
    """

    def __init__(self, inner: ChatModel) -> None:
        super().__init__(inner)
        self.calls: list[Call] = []

    async def complete(self, messages: list[Message], params: GenerationParams) -> Completion:
        started = time.monotonic()
        completion = await self.inner.complete(messages, params)
        u = completion.usage
        self.calls.append(
            Call(
                messages,
                params,
                started,
                time.monotonic(),
                u.completion_tokens,
                u.prompt_tokens,
                u.cached_tokens,
            )
        )
        return completion

    async def aclose(self) -> None:
        return None

    def totals(self) -> dict[str, int]:
        return {
            "requests": len(self.calls),
            "completion_tokens": sum(c.completion_tokens for c in self.calls),
            "prompt_tokens": sum(c.prompt_tokens for c in self.calls),
            "cached_tokens": sum(c.cached_tokens for c in self.calls),
        }


def call_row(call: Call, origin: float) -> list[float]:
    """Start and end (seconds after ``origin``), completion, prompt and cached tokens."""
    return [
        round(call.started - origin, 3),
        round(call.ended - origin, 3),
        call.completion_tokens,
        call.prompt_tokens,
        call.cached_tokens,
    ]


def exact(n: int, like: GenerationParams) -> GenerationParams:
    """Params that make the engine produce exactly ``n`` tokens, sampled like ``like``."""
    return GenerationParams(max_tokens=n, min_tokens=n, temperature=like.temperature, top_p=like.top_p)


async def ceiling(model: ChatModel, n: int, tokens: int) -> dict[str, Any]:
    """N concurrent plain requests of exactly ``tokens`` tokens each."""
    params = exact(tokens, GenerationParams(max_tokens=tokens))
    asks: list[list[Message]] = [
        [{"role": "user", "content": f"Write a long essay about {TOPICS[i % len(TOPICS)]} (essay {i})."}]
        for i in range(n)
    ]
    started = time.monotonic()
    done = await asyncio.gather(*(model.complete(ask, params) for ask in asks))
    wall = time.monotonic() - started
    produced = sum(c.usage.completion_tokens for c in done)
    return {
        "n": n,
        "tokens_each": tokens,
        "completion_tokens": produced,
        "wall_s": wall,
        "tokens_per_s": produced / wall,
    }


async def replay(model: ChatModel, calls: list[Call]) -> float:
    """Send the recorded requests again with the agent's dependency pattern; the wall time.

    Request i waits for every request that had ended before i started in the recording.
    Structured-output schemas are left out (min_tokens and a closed grammar do not mix).
    """
    finished = [asyncio.Event() for _ in calls]

    async def one(i: int) -> None:
        for j, other in enumerate(calls):
            if other.ended <= calls[i].started:
                await finished[j].wait()
        call = calls[i]
        await model.complete(call.messages, exact(max(1, call.completion_tokens), call.params))
        finished[i].set()

    started = time.monotonic()
    await asyncio.gather(*(one(i) for i in range(len(calls))))
    return time.monotonic() - started


def coherence(sections: list[str], embed: Embedder | None = None) -> dict[str, Any]:
    """The package's coherence figures (``agentwrite.evaluation.text_figures``) that the table
    shows, under this script's names; the adjacent-section similarity only with ``embed``."""
    figures = text_figures("", sections, embed)
    shown = {
        "repeated_4gram_rate": figures["repeated_4gram_rate"],
        "repeated_sentence_rate": figures["cross_section_repeated_sentence_rate"],
        "distinct_2": figures["distinct_2"],
    }
    if embed is not None and figures.get("adjacent_similarity") is not None:
        shown["adjacent_similarity"] = figures["adjacent_similarity"]
    return shown


def fixed_plan(words: int, section_words: int) -> Plan:
    """An even plan of sections of about ``section_words`` words (the target split exactly).

    >>> [s.target_words for s in fixed_plan(1000, 300).sections]
    [334, 333, 333]
    """
    count = max(1, round(words / section_words))
    sections = [
        SectionPlan(
            title=f"{place}",
            main_point=f"What a visitor should know about {place.lower()} in Yunnan.",
            target_words=words // count + (1 if i < words % count else 0),
        )
        for i, place in enumerate((PLACES * (count // len(PLACES) + 1))[:count])
    ]
    return Plan(title="A Traveller's Yunnan", sections=sections)


async def run_modes(
    model: ChatModel, settings: Settings, words: int, modes: list[WriteMode]
) -> dict[str, Any]:
    brief = BRIEF.format(words=f"{words:,}")
    recorder = RecordingModel(model)
    started = time.monotonic()
    source = "model"
    try:
        plan: Plan = await aplan(brief, settings=settings, model=recorder, words=words)
    except (PlanError, ModelError) as exc:  # a small model may not manage an outline; the modes still compare
        log.warning("the model's plan failed (%s); using a fixed plan", exc)
        plan, source = fixed_plan(words, settings.max_section_words // 2), "fixed (the model's plan failed)"
    out: dict[str, Any] = {
        "brief": brief,
        "words": words,
        "plan": {
            "wall_s": time.monotonic() - started,
            "sections": len(plan.sections),
            "source": source,
            **recorder.totals(),
        },
        "modes": {},
    }
    for mode in modes:
        recorder = RecordingModel(model)
        started = time.monotonic()
        doc = await awrite(
            brief, settings=settings.model_copy(update={"mode": mode}), model=recorder, plan=plan, words=words
        )
        wall = time.monotonic() - started
        replay_wall = await replay(model, recorder.calls)
        texts = [s.text for s in doc.sections]
        out["modes"][mode] = {
            "wall_s": wall,
            "replay_wall_s": replay_wall,
            "overhead_ratio": wall / replay_wall,
            "words": doc.words,
            "sections": len(texts),
            **recorder.totals(),
            **coherence(texts),
            "calls": [call_row(c, started) for c in recorder.calls],
            "texts": texts,
        }
        log.info("%s: %.1f s agent, %.1f s replay, %d words", mode, wall, replay_wall, doc.words)
    return out


async def run_scaling(
    model: ChatModel, settings: Settings, words: int, counts: list[int], fixed: bool = False
) -> list[dict[str, Any]]:
    import matplotlib.pyplot  # noqa: F401  (imported once before timing: the build's stats plot uses it)

    from agentwrite.dataset.build import abuild_dataset
    from agentwrite.dataset.recipe import Recipe

    rows = []
    for count in counts:
        with tempfile.TemporaryDirectory(prefix="bench-speed-") as tmp:
            instructions = Path(tmp) / "instructions.jsonl"
            lines: list[dict[str, Any]] = [
                {
                    "prompt": f"Write a {words}-word essay about {TOPICS[i % len(TOPICS)]}.",
                    "type": "essay",
                    "length": words,
                }
                for i in range(count)
            ]
            instructions.write_text("".join(json.dumps(x) + "\n" for x in lines), "utf-8")
            recorder = RecordingModel(model)
            started = time.monotonic()
            if fixed:  # plain awrite calls with a fixed plan, for models that cannot plan reliably
                plan = fixed_plan(words, settings.max_section_words // 2)
                docs = await asyncio.gather(
                    *(
                        awrite(x["prompt"], settings=settings, model=recorder, plan=plan, words=words)
                        for x in lines
                    ),
                    return_exceptions=True,  # a failed document is counted, as a build would reject it
                )
                stats = {"accepted": sum(not isinstance(d, BaseException) for d in docs)}
            else:
                stats = await abuild_dataset(
                    instructions, Path(tmp) / "out", settings, recorder, recipe=Recipe(concurrency=count)
                )
            wall = time.monotonic() - started
        totals = recorder.totals()
        writing = max(c.ended for c in recorder.calls) - started if recorder.calls else wall
        rows.append(
            {
                "documents": count,
                "words_each": words,
                "wall_s": wall,
                "writing_wall_s": writing,
                "tokens_per_s": totals["completion_tokens"] / wall,
                "accepted": stats.get("accepted"),
                "how": "awrite with a fixed plan" if fixed else "abuild_dataset",
                **totals,
            }
        )
        log.info("scaling %d documents: %.1f s", count, wall)
    return rows


def parse_ints(text: str) -> list[int]:
    """Comma-separated positive integers.

    >>> parse_ints("1, 4,16")
    [1, 4, 16]
    """
    values = [int(part) for part in text.split(",") if part.strip()]
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f"expected positive integers separated by commas, got {text!r}")
    return values


async def measure(args: argparse.Namespace, base_url: str) -> dict[str, Any]:
    from agentwrite.llm.openai_compat import OpenAICompatModel

    settings = Settings(
        base_url=base_url,
        model=args.model,
        max_inflight=args.max_inflight,
        seed=args.seed,
        max_context=args.max_context,
    )
    model = LimitedModel(OpenAICompatModel.from_settings(settings), settings.max_inflight)
    result: dict[str, Any] = {
        "base_url": base_url,
        "machine": args.machine,
        "python": platform.python_version(),
    }
    try:
        await model.complete(
            [{"role": "user", "content": "Say hello."}], GenerationParams(max_tokens=16)
        )  # warm-up
        save = lambda: args.out.write_text(json.dumps(result, indent=1, ensure_ascii=False), "utf-8")  # noqa: E731
        if "ceiling" in args.parts:
            wanted = sorted(set(args.ceiling_n) | (set(args.docs) if "scaling" in args.parts else set()))
            result["ceiling"] = [await ceiling(model, n, args.ceiling_tokens) for n in wanted]
            save()
        if "modes" in args.parts:
            result["modes"] = await run_modes(model, settings, args.words, args.modes)
            save()
        if "scaling" in args.parts:
            result["scaling"] = await run_scaling(model, settings, args.doc_words, args.docs, args.fixed_plan)
    finally:
        await model.aclose()
    return result


def run(args: argparse.Namespace) -> dict[str, Any]:
    if args.base_url:
        return asyncio.run(measure(args, args.base_url))
    from agentwrite.llm.vllm_server import VLLMServer

    with VLLMServer(
        args.serve_model, max_model_len=args.max_model_len, startup_timeout=args.startup_timeout
    ) as server:
        args.model = args.model or server.model_name
        result = asyncio.run(measure(args, server.base_url))
        result["server_start_s"] = server.startup_seconds
        return result


def merge(results: list[dict[str, Any]]) -> dict[str, Any]:
    """Later files add to earlier ones; ceiling rows are combined by N."""
    merged: dict[str, Any] = {}
    rows: dict[int, dict[str, Any]] = {}
    for result in results:
        for row in result.get("ceiling", []):
            rows[row["n"]] = row
        merged.update({k: v for k, v in result.items() if k != "ceiling"})
    if rows:
        merged["ceiling"] = [rows[n] for n in sorted(rows)]
    return merged


def fill_embeddings(result: dict[str, Any]) -> None:
    """Each mode's adjacent-section similarity, where the bundled embedder loads."""
    try:
        embed = load_embedder()
    except EmbeddingUnavailable as exc:
        log.warning("adjacent-section similarity left out: %s", exc)
        return
    for row in result.get("modes", {}).get("modes", {}).values():
        if row.get("adjacent_similarity") is None:
            row.update(coherence(row["texts"], embed))


def table(result: dict[str, Any]) -> str:
    """The Markdown table of a result (merged from one or more runs)."""
    lines = ["| part | case | wall s | tokens/s | ratio | notes |", "|---|---|---|---|---|---|"]
    by_n = {row["n"]: row for row in result.get("ceiling", [])}
    for row in result.get("ceiling", []):
        lines.append(
            f"| engine ceiling | {row['n']} concurrent | {row['wall_s']:.1f} | {row['tokens_per_s']:,.0f} "
            f"| | {row['n']} × {row['tokens_each']} tokens |"
        )
    modes = result.get("modes")
    if modes:
        plan = modes["plan"]
        lines.append(
            f"| plan | {plan['sections']} sections | {plan['wall_s']:.1f} | | "
            f"| one plan for all modes: {plan.get('source', 'model')} |"
        )
        base = modes["modes"].get("sequential", {}).get("wall_s")
        for mode, row in modes["modes"].items():
            lines.append(
                f"| agent overhead | {mode} | {row['wall_s']:.1f} | | {row['overhead_ratio']:.3f} | "
                f"replay {row['replay_wall_s']:.1f} s, {row['requests']} requests |"
            )
        for mode, row in modes["modes"].items():
            ratio = f"{row['wall_s'] / base:.2f}" if base else ""
            cached = row["cached_tokens"] / row["prompt_tokens"] if row["prompt_tokens"] else 0.0
            adjacent = row.get("adjacent_similarity")
            lines.append(
                f"| mode, {modes['words']:,}-word target | {mode} | {row['wall_s']:.1f} "
                f"(+{plan['wall_s']:.1f} plan) | {row['completion_tokens'] / row['wall_s']:,.0f} | {ratio} | "
                f"{row['words']:,} words; adjacent sim. {'n/a' if adjacent is None else f'{adjacent:.3f}'}; "
                f"repeated 4-grams {row['repeated_4gram_rate']:.3f}; repeated sentences "
                f"{row['repeated_sentence_rate']:.3f}; prompt tokens from cache {cached:.0%} |"
            )
    for row in result.get("scaling", []):
        top = by_n.get(row["documents"])
        fraction = f"{row['tokens_per_s'] / top['tokens_per_s']:.2f}" if top else ""
        lines.append(
            f"| dataset build | {row['documents']} in flight | {row['wall_s']:.1f} "
            f"| {row['tokens_per_s']:,.0f} | {fraction} "
            f"| {row['documents']} × {row['words_each']:,} words, sequential, "
            f"{row.get('how', 'abuild_dataset')}; vs. the ceiling at that N |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run", help="measure against a server (started here unless --base-url is given)")
    r.add_argument("--base-url", help="an OpenAI-compatible server to measure; default: start vLLM here")
    r.add_argument("--model", help="model name on that server (default: its first)")
    r.add_argument("--serve-model", default="bundled", help="model folder to serve when starting vLLM here")
    r.add_argument("--max-model-len", type=int, default=8192, help="context window of a server started here")
    r.add_argument(
        "--startup-timeout", type=float, default=1800, help="seconds to wait for a server started here"
    )
    r.add_argument("--parts", type=lambda s: s.split(","), default=["ceiling", "modes", "scaling"],
                   help="comma-separated: ceiling, modes (with the overhead replay), scaling")  # fmt: skip
    r.add_argument("--ceiling-n", type=parse_ints, default=[1, 4, 8, 16], help="concurrency levels")
    r.add_argument("--ceiling-tokens", type=int, default=256, help="tokens per ceiling request")
    r.add_argument("--words", type=int, default=10_000, help="word target of the mode runs")
    r.add_argument("--modes", type=lambda s: s.split(","), default=list(MODES), help="modes to run")
    r.add_argument("--docs", type=parse_ints, default=[1, 4, 16], help="documents in flight for scaling")
    r.add_argument("--doc-words", type=int, default=2_000, help="word target of each scaling document")
    r.add_argument("--fixed-plan", action="store_true", help="scaling: awrite with a fixed plan, no planner")
    r.add_argument("--max-inflight", type=int, default=256, help="bound on requests in flight")
    r.add_argument("--seed", type=int, default=None, help="sampling seed")
    r.add_argument(
        "--max-context", type=int, default=None, help="context budget in tokens (default: the server's)"
    )
    r.add_argument("--machine", default=platform.node(), help="what to call the machine in the results")
    r.add_argument("--out", type=Path, required=True, help="JSON file for the raw numbers")
    p = sub.add_parser("report", help="print the table from result files (merged), adding embedding figures")
    p.add_argument("files", type=Path, nargs="+")
    p.add_argument("--out", type=Path, help="write the merged, completed result here")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    if args.command == "run":
        result = run(args)
        fill_embeddings(result)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=1, ensure_ascii=False), "utf-8")
    else:
        result = merge([json.loads(f.read_text("utf-8")) for f in args.files])
        fill_embeddings(result)
        if args.out:
            args.out.write_text(json.dumps(result, indent=1, ensure_ascii=False), "utf-8")
    print(f"Machine: {result.get('machine')}\n\n{table(result)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
