"""How long can a model write one section before it degenerates?

For each section budget and repetition penalty, every prompt of a suite is asked for one
section of that many words (the parallel writer's prompt, ``min_tokens`` and ``max_tokens``
as the writer sends them), with no loop guard. Each answer is read by the loop guard
afterwards: the words before its first loop are the section's *clean words*. The table
says, per budget and penalty, how many answers loop, the median clean words, the clean
share of all words written (the budget bounds for a model come from where that share
falls), and the gibberish rate and distinct-2 of all answers together (a penalty that
stops loops by turning the text to nonsense is no cure). ``--save FILE`` keeps every
answer (JSONL) for reading.

    .venv/bin/python eval/section_length.py --base-url http://127.0.0.1:8011/v1 \\
        --suite eval/suites/quality.jsonl --budgets 150,300,500,800 --penalties 1.0,1.05,1.1
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
from pathlib import Path

from agentwrite.domain import Brief, Plan, SectionPlan
from agentwrite.evaluation.suites import load_suite
from agentwrite.graph.context import WriteContext
from agentwrite.graph.nodes.fanout import fanout_messages
from agentwrite.graph.nodes.section_request import section_params
from agentwrite.length import count_words
from agentwrite.llm.decoding import Decoding
from agentwrite.llm.openai_compat import OpenAICompatModel
from agentwrite.settings import Settings
from agentwrite.text_stats import distinct_n, gibberish_rate
from agentwrite.writing.loop_guard import LoopGuard


def clean_words(prompt: list[str], text: str) -> int:
    """Counted words of ``text`` before its first loop (all of them when it has none)."""
    loop = LoopGuard(prompt).find(text)
    return count_words(text if loop is None else text[: loop.start])


async def one(
    model: OpenAICompatModel, settings: Settings, instruction: str, budget: int, penalty: float
) -> str:
    plan = Plan(
        title=instruction[:80],
        sections=[SectionPlan(title="The whole piece", main_point=instruction[:300], target_words=budget)],
    )
    brief = Brief(instruction=instruction, target_words=budget)
    messages = fanout_messages({"brief": brief, "plan": plan, "sketches": [], "index": 0})
    ctx = WriteContext(model=model, settings=settings, max_context=8192)
    decoding = Decoding(repetition_penalty=penalty).over(settings.decoding_for("writer"))
    params = section_params(ctx, messages, budget, decoding=decoding, force_length=True)
    completion = await model.complete(messages, params)
    return completion.text


async def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--model", default=None)
    parser.add_argument("--suite", default="eval/suites/quality.jsonl")
    parser.add_argument("--budgets", default="150,300,500,800")
    parser.add_argument("--penalties", default="1.0,1.05,1.1")
    parser.add_argument("--save", default=None, help="JSONL file for every answer")
    args = parser.parse_args(argv)
    budgets = [int(b) for b in args.budgets.split(",")]
    penalties = [float(p) for p in args.penalties.split(",")]
    items = load_suite(Path(args.suite))
    settings = Settings(base_url=args.base_url, model=args.model)
    model = OpenAICompatModel.from_settings(settings)
    cases = [(b, p, item.prompt) for b in budgets for p in penalties for item in items]
    texts = await asyncio.gather(*(one(model, settings, prompt, b, p) for b, p, prompt in cases))
    await model.aclose()
    if args.save:
        with open(args.save, "w", encoding="utf-8") as out:
            for (b, p, prompt), text in zip(cases, texts, strict=True):
                out.write(json.dumps({"budget": b, "penalty": p, "prompt": prompt, "text": text}) + "\n")
    print(f"model {model.name}, {len(items)} prompts, one section each, loop guard off\n")
    print(
        "| budget | repetition penalty | words written (median) | answers that loop | clean words (median) "
        "| clean share of all words | gibberish rate | distinct-2 |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for b in budgets:
        for p in penalties:
            group = [
                (prompt, text)
                for (cb, cp, prompt), text in zip(cases, texts, strict=True)
                if (cb, cp) == (b, p)
            ]
            written = [count_words(text) for _, text in group]
            clean = [clean_words([prompt], text) for prompt, text in group]
            looped = sum(c < w for w, c in zip(written, clean, strict=True))
            share = sum(clean) / max(1, sum(written))
            joined = "\n\n".join(text for _, text in group)
            print(
                f"| {b} | {p} | {statistics.median(written):.0f} | {looped} of {len(group)} "
                f"| {statistics.median(clean):.0f} | {share:.2f} | {gibberish_rate(joined):.3f} "
                f"| {distinct_n(joined, 2):.2f} |"
            )


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))
