"""The judge's ratings of a run's responses, cached in ``judgements.jsonl`` by key, response
and judge, so that a re-score asks the judge only about what changed."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from agentwrite.evaluation.judge import JudgeError, judge
from agentwrite.evaluation.score_files import LeftOut, ScoreProgress
from agentwrite.files import append_jsonl, read_jsonl
from agentwrite.llm.base import ChatModel

JUDGEMENTS = "judgements.jsonl"


def judge_id(key: str, response: str, judge_name: str) -> str:
    return hashlib.sha256(f"{key}\n{judge_name}\n{response}".encode()).hexdigest()[:16]


async def judge_all(
    rows: list[dict[str, Any]],
    run_dir: Path,
    model: ChatModel,
    concurrency: int,
    attempts: int,
    max_context: int | None,
    on_item: Callable[[ScoreProgress], None] | None = None,
) -> tuple[dict[str, dict[str, Any]], list[LeftOut]]:
    """Ratings by key (from the cache or the judge) and the items the judge failed on.

    ``max_context`` is the judge's window in tokens (default: what its server reports);
    responses too long for it are cut in the middle."""
    cache_path = run_dir / JUDGEMENTS
    cache = {r["id"]: r for r in read_jsonl(cache_path, repair=True)}  # a crash may tear its last line
    structured = model.capabilities.structured_output
    # asking for the window resolves a server's model name, which keys the cache: a
    # placeholder name would let another model's ratings pass for this one's
    window = await model.context_window()
    max_context = window if max_context is None else max_context
    semaphore = asyncio.Semaphore(concurrency)
    found: dict[str, dict[str, Any]] = {}
    failures: list[LeftOut] = []

    def tell(key: str, _task: object = None) -> None:
        if on_item:
            on_item(ScoreProgress(key, "judge", len(found) + len(failures), len(failures), len(rows)))

    with cache_path.open("a", encoding="utf-8") as out:

        async def one(row: dict[str, Any]) -> None:
            ident = judge_id(row["key"], row["response"], model.name)
            if ident in cache:
                found[row["key"]] = cache[ident]
                return
            async with semaphore:
                try:
                    verdict = await judge(
                        model,
                        row["prompt"],
                        row["response"],
                        attempts=attempts,
                        structured=structured,
                        max_context=max_context,
                    )
                except JudgeError as exc:
                    failures.append(LeftOut(key=row["key"], reason=str(exc)))
                    return
            record = {
                "id": ident,
                "key": row["key"],
                "judge": model.name,
                "ratings": verdict.ratings,
                "attempts": verdict.attempts,
                "truncated": verdict.truncated,
            }
            append_jsonl(out, record)
            found[row["key"]] = record

        async with asyncio.TaskGroup() as group:
            for row in rows:
                if isinstance(row.get("response"), str):
                    group.create_task(one(row)).add_done_callback(partial(tell, row["key"]))
                else:
                    failures.append(LeftOut(key=row["key"], reason="no response text to judge"))
                    tell(row["key"])
    return found, failures
