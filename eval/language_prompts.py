"""Benchmark: does a Chinese brief's section request get a Chinese answer more often when
the request itself is worded in Chinese?

The same section requests (brief, plan, section) are sent worded two ways: the writer's own
templates, in English, naming the language ("..., in Chinese."), and the same request worded
in Chinese (``ZH_SYSTEM``, ``ZH_PARALLEL`` below: a candidate wording, not a shipped prompt).
The plans are model plans taken from committed runs, so the requests are ones the agent
really sends. Each answer is measured for its share of words in
the brief's language (`language_share`), whether it is mostly in it, its gibberish rate, and
its lexical closeness to the brief. One table, one run:

    .venv/bin/python eval/language_prompts.py --base-url http://127.0.0.1:8011/v1 \\
        --runs eval/results/brief_cpu/agent_chat eval/results/brief_cpu/agent_titles
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
from pathlib import Path

from openai import AsyncOpenAI

from agentwrite.domain import Brief, Plan
from agentwrite.graph.nodes.section_request import section_fields
from agentwrite.prompts import render, render_text
from agentwrite.text_stats import gibberish_rate
from agentwrite.writing.language import CHINESE, language_share
from agentwrite.writing.topic import scorer, section_on_topic

_WORDINGS = ("en", "zh")
ZH_SYSTEM = "你是一位出色的作家。请用中文写作。"
ZH_PARALLEL = (
    "{{instruction}}\n\n全文大纲：\n{{outline}}\n\n"
    "只写标题为“{{title}}”的这一部分（{{main_point}}），约{{words}}字，用中文写。直接从正文开始。"
)


def requests(runs: list[Path], sections: int) -> list[dict]:
    """Each Chinese brief's first ``sections`` section requests from each run's plans."""
    out = []
    for run in runs:
        for path in sorted((run / "documents").glob("*.json")):
            document = json.loads(path.read_text("utf-8"))
            brief = Brief.model_validate(document["brief"])
            if brief.language_name != "Chinese":
                continue
            plan = Plan.model_validate(document["plan"])
            for index in range(min(sections, len(plan.sections))):
                words = plan.sections[index].target_words
                out.append(
                    {
                        "brief": brief,
                        "main_point": plan.sections[index].main_point,
                        "words": words,
                        "fields": section_fields(brief, plan, index, words),
                    }
                )
    return out


def messages(fields: dict, wording: str) -> list[dict]:
    """The parallel-mode section request, worded in English or in Chinese."""
    if wording == "en":
        return [
            {"role": "system", "content": render("system", language=fields["language"])},
            {"role": "user", "content": render("write_parallel", material="", **fields)},
        ]
    rest = {k: v for k, v in fields.items() if k != "language"}
    return [
        {"role": "system", "content": ZH_SYSTEM},
        {"role": "user", "content": render_text(ZH_PARALLEL, **rest)},
    ]


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--runs", nargs="+", type=Path, required=True)
    parser.add_argument("--sections", type=int, default=2, help="first sections of each plan")
    parser.add_argument("--samples", type=int, default=2, help="answers per request and wording")
    parser.add_argument("--max-tokens", type=int, default=400)
    parser.add_argument("--out", type=Path, help="write every answer and its figures here (JSONL)")
    args = parser.parse_args()
    client = AsyncOpenAI(base_url=args.base_url, api_key="none", timeout=1800)
    model = (await client.models.list()).data[0].id
    topic = scorer("lexical")
    todo = requests(args.runs, args.sections)
    if not todo:
        print("no Chinese briefs in those runs", file=sys.stderr)
        return 2

    async def ask(request: dict, wording: str, sample: int) -> dict:
        answer = await client.chat.completions.create(
            model=model,
            messages=messages(request["fields"], wording),
            max_tokens=args.max_tokens,
            temperature=0.7,
            top_p=0.95,
            extra_body={"repetition_penalty": 1.1},
        )
        text = answer.choices[0].message.content or ""
        share = language_share(text, CHINESE)
        return {
            "wording": wording,
            "sample": sample,
            "brief": request["brief"].instruction,
            "main_point": request["main_point"],
            "text": text,
            "chinese_share": share,
            "mostly_chinese": share >= 0.5,
            "gibberish": gibberish_rate(text),
            "on_topic": section_on_topic(text, request["brief"].instruction, request["main_point"], topic),
        }

    answers = await asyncio.gather(
        *(ask(r, w, k) for r in todo for w in _WORDINGS for k in range(args.samples))
    )
    if args.out:
        args.out.write_text("".join(json.dumps(a, ensure_ascii=False) + "\n" for a in answers), "utf-8")
    print(f"{len(todo)} requests from {len(args.runs)} runs, {args.samples} answers each way, {model}")
    print("| wording | answers | mostly Chinese | mean Chinese share | gibberish | on-topic (lexical) |")
    print("|---|---|---|---|---|---|")
    for wording in _WORDINGS:
        mine = [a for a in answers if a["wording"] == wording]
        print(
            f"| {wording} | {len(mine)} | {sum(a['mostly_chinese'] for a in mine) / len(mine):.2f} "
            f"| {statistics.mean(a['chinese_share'] for a in mine):.2f} "
            f"| {statistics.mean(a['gibberish'] for a in mine):.3f} "
            f"| {statistics.mean(a['on_topic'] for a in mine):.2f} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
