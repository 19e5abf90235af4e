"""How well the planner keeps to the brief: plan each prompt of a suite under one or more
settings and print, per plan, how close its sections are to the brief and how many requests
it took. Planning only (one plan per prompt and repeat), against a running server.

    .venv/bin/python eval/plan_on_brief.py --base-url http://127.0.0.1:8011/v1 \\
        --config base: --config checks:plan_checks=true --repeats 2

A config is ``NAME:KEY=VALUE,KEY=VALUE`` (settings, values read as JSON where they parse).
Per plan: ``requests`` (planner attempts), ``problems`` left in the plan as the planner
returned it (``plan_problems`` and ``brief_problems``, whatever ``plan_checks`` is),
on-topic of its sections ("title: main point") against the brief, their mean and lowest,
by the lexical scorer and (English briefs, with the ``eval`` extra) all-MiniLM-L6-v2
cosine; ``drifted`` counts sections under the issue's MiniLM bar of 0.25.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
from pathlib import Path
from typing import Any

from agentwrite.domain import Plan
from agentwrite.errors import PlanError
from agentwrite.graph.nodes.plan import make_plan
from agentwrite.length import resolve_target
from agentwrite.llm.base import Completion, ForwardingModel, GenerationParams, Message
from agentwrite.llm.factory import make_model
from agentwrite.plans import plan_problems
from agentwrite.runner import make_brief, write_context
from agentwrite.settings import Settings, load_settings
from agentwrite.writing.language import brief_language
from agentwrite.writing.plan_checks import brief_problems
from agentwrite.writing.topic import EmbeddingScorer, LexicalScorer

SUITE = Path(__file__).resolve().parent / "suites" / "brief.jsonl"
DRIFT_BAR = 0.25
"""The issue's held-out bar: all-MiniLM-L6-v2 cosine to the brief."""


class Counted(ForwardingModel):
    """Counts the requests made through it."""

    requests = 0

    async def complete(self, messages: list[Message], params: GenerationParams) -> Completion:
        self.requests += 1
        return await self.inner.complete(messages, params)


def parse_config(text: str) -> tuple[str, dict[str, Any]]:
    """``NAME:KEY=VALUE,...`` as a name and settings overrides.

    >>> parse_config("checks:plan_checks=true,plan_attempts=4")
    ('checks', {'plan_checks': True, 'plan_attempts': 4})
    >>> parse_config("base:")
    ('base', {})
    """
    name, _, rest = text.partition(":")
    overrides: dict[str, Any] = {}
    for pair in filter(None, rest.split(",")):
        key, _, value = pair.partition("=")
        try:
            overrides[key] = json.loads(value)
        except json.JSONDecodeError:
            overrides[key] = value
    return name, overrides


async def plan_once(prompt: str, settings: Settings) -> tuple[Plan, int, list[str]]:
    """One plan of ``prompt``, the requests it took and the repairs made to it."""
    counted = Counted(make_model(settings))
    try:
        async with write_context(settings, counted) as ctx:
            brief = make_brief(prompt, resolve_target(prompt, None, settings.max_words))
            plan, _, repairs = await make_plan(brief, ctx)
    finally:
        await counted.aclose()
    return plan, counted.requests, repairs


def row(
    prompt: str, plan: Plan, requests: int, repairs: list[str], minilm: EmbeddingScorer | None
) -> dict[str, Any]:
    """The figures of one plan."""
    sections = [f"{s.title}: {s.main_point}" for s in plan.sections]
    lexical = LexicalScorer().similarities(sections, prompt)
    english = brief_language(prompt).name == "English"
    cosines = minilm.similarities(sections, prompt) if minilm and english else []
    return {
        "prompt": prompt,
        "requests": requests,
        "problems": len(plan_problems(plan) + brief_problems(plan, prompt)),
        "repairs": len(repairs),
        "lexical_mean": statistics.mean(lexical),
        "lexical_min": min(lexical),
        "minilm_mean": statistics.mean(cosines) if cosines else None,
        "minilm_min": min(cosines) if cosines else None,
        "drifted": sum(c < DRIFT_BAR for c in cosines) if cosines else None,
        "sections": len(sections),
        "plan": [plan.title, *sections],
    }


def _f(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--suite", type=Path, default=SUITE)
    parser.add_argument("--base-url", help="the server (else the settings' base_url)")
    parser.add_argument("--config", action="append", default=[], help="NAME:KEY=VALUE,... (repeatable)")
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--no-embedding", action="store_true", help="lexical scorer only")
    parser.add_argument("--save", type=Path, help="write every plan's figures here (JSON lines)")
    args = parser.parse_args()
    prompts = [
        json.loads(line)["prompt"] for line in args.suite.read_text("utf-8").splitlines() if line.strip()
    ]
    minilm = None if args.no_embedding else EmbeddingScorer()
    base = load_settings()
    if args.base_url:
        base = base.model_copy(update={"base_url": args.base_url})
    gate = asyncio.Semaphore(args.concurrency)
    configs = [parse_config(c) for c in args.config or ["base:"]]

    async def one(name: str, overrides: dict[str, Any], prompt: str) -> dict[str, Any]:
        settings = base.model_copy(update=overrides)  # unset fields stay unset, for the model's profile
        async with gate:
            try:
                plan, requests, repairs = await plan_once(prompt, settings)
            except PlanError as error:
                return {"config": name, "prompt": prompt, "failed": str(error)}
        return {"config": name, **row(prompt, plan, requests, repairs, minilm)}

    # the configurations' plans interleaved, so that each meets the same load on the server
    jobs = [one(name, o, p) for p in prompts for _ in range(args.repeats) for name, o in configs]
    rows: list[dict[str, Any]] = []
    for job in asyncio.as_completed(jobs):
        rows.append(r := await job)
        if "failed" in r:
            print(f"{r['config']:8} FAILED {r['prompt'][:50]} | {r['failed'][:120]}", flush=True)
            continue
        print(f"{r['config']:8} req {r['requests']} problems {r['problems']:2} "
              f"lexical {_f(r['lexical_mean'])}/{_f(r['lexical_min'])} "
              f"minilm {_f(r['minilm_mean'])}/{_f(r['minilm_min'])} "
              f"| {r['prompt'][:50]} | {' / '.join(r['plan'])[:160]}", flush=True)  # fmt: skip
    print("\nconfig   plans  requests  problems left  lexical mean  MiniLM mean (en)  MiniLM min (en)  "
          "en plans with a section < 0.25")  # fmt: skip
    for name, _ in configs:
        failed = sum("failed" in r for r in rows if r["config"] == name)
        mine = [r for r in rows if r["config"] == name and "failed" not in r]
        en = [r for r in mine if r["minilm_mean"] is not None]
        print(
            f"{name:8} {len(mine):5}  {statistics.mean(r['requests'] for r in mine):8.2f}  "
            f"{statistics.mean(r['problems'] for r in mine):13.2f}  "
            f"{statistics.mean(r['lexical_mean'] for r in mine):12.2f}  "
            f"{_f(statistics.mean(r['minilm_mean'] for r in en) if en else None):>16}  "
            f"{_f(statistics.mean(r['minilm_min'] for r in en) if en else None):>15}  "
            f"{sum(r['drifted'] > 0 for r in en)} of {len(en)}" + (f"  ({failed} failed)" if failed else "")
        )
    if args.save:
        args.save.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")


if __name__ == "__main__":
    asyncio.run(main())
