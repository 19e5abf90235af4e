"""The revise pass (issue 23 item 3): after every section is written, the weakest are written
anew with their neighbours in view, within the budget, and a rewrite is kept only if it scores
better. The fakes drift on a fixed share of requests: the first answer of every odd section."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from agentwrite.domain import Document, Section
from agentwrite.graph.nodes.revise import first_tokens
from agentwrite.llm.base import Completion, GenerationParams, Message
from agentwrite.runner import awrite
from agentwrite.settings import Settings
from agentwrite.testing.fake_writer import writer_handler
from agentwrite.testing.openai_server import OpenAIServer
from agentwrite.testing.replies import Reply
from agentwrite.testing.scripted_model import ScriptedModel
from tests.scripted import asked_section, drifting, writer_reply

ROOT = Path(__file__).resolve().parents[1]
BRIEF = "Write a 10000-word travel guide to Yunnan"
REWRITE = "anew, in about"
"""What marks a rewrite's request (``revise_section.md``)."""


def last_user(messages: list[dict[str, Any]]) -> str:
    return str([m for m in messages if m["role"] == "user"][-1]["content"])


def drifts(prompt: str, every: int = 2) -> int | None:
    """The section (from 1) whose first answer drifts: every odd one (``every`` 2), or all (1)."""
    number = asked_section(prompt)
    return number if number and number % every == 1 % every else None


def drifting_handler(request: dict[str, Any]) -> Reply:
    """``writer_handler``, but the first answer of every odd section is off the brief."""
    reply = writer_handler(request)
    number = drifts(last_user(request["messages"]))
    if number is None or reply.text is None:
        return reply
    return Reply.completion(drifting(len(reply.text.split()), number), reply.finish_reason)


def drifting_reply(messages: list[Message], params: GenerationParams, every: int = 2) -> Completion:
    """``drifting_handler`` in process: ``writer_reply`` with odd sections' first answers off it
    (all with ``every`` 1)."""
    answer = writer_reply(messages, params)
    number = drifts(last_user(messages), every)
    if number is None:
        return answer
    return Completion(drifting(len(answer.text.split()), number), answer.finish_reason, answer.usage)


def revised(sections: list[Section]) -> list[Section]:
    return [s for s in sections if any(c.revision for c in s.candidates)]


def test_the_cli_revises_the_weak_sections_only_within_budget_over_http(tmp_path: Path) -> None:
    """``write --revise`` against a loopback server: the chooser asks once (max_candidates 1),
    so the five drifting sections reach the revise pass; the three weakest are written anew
    (revise_sections 3; revise_budget 2, so that the count binds, not the budget) with their
    neighbours and problems in the request, each rewrite keeps to
    the point and is kept, and the sidecar records every try and what the pass cost."""
    out, sidecar = tmp_path / "yunnan.md", tmp_path / "yunnan.json"
    with OpenAIServer(drifting_handler) as server:
        result = subprocess.run(
            [sys.executable, "-m", "agentwrite.cli", "write", BRIEF, "--mode", "parallel", "--revise",
             "--max-candidates", "1", "--revise-budget", "2", "--base-url", server.base_url,
             "-o", str(out), "--json", str(sidecar), "-q"],
            capture_output=True, text=True, timeout=120, cwd=ROOT,
            env={**os.environ, "AGENTWRITE_RETRY_BASE_DELAY": "0.01"},
        )  # fmt: skip
        requests = [r.body for r in server.completion_requests() if r.body is not None]
    assert result.returncode == 0, result.stderr[-3000:]
    doc = Document.model_validate(json.loads(sidecar.read_text("utf-8")) | {"markdown": ""})
    record = json.loads(sidecar.read_text("utf-8"))
    assert record["revise_tokens"] == doc.revise_tokens > 0 and record["check_tokens"] == 0
    rewrites = [last_user(body["messages"]) for body in requests if REWRITE in last_user(body["messages"])]
    assert len(rewrites) == 3 and all("Above all, in this answer: Stay on:" in r for r in rewrites)
    assert all("The part before it ends:" in r or "The part after it begins:" in r for r in rewrites)
    weak = [s for s in doc.sections if s.candidates[0].scores.problems]
    assert {s.index % 2 for s in weak} == {0}  # sections 1, 3, 5... (from 1) drifted
    done = revised(doc.sections)
    assert len(done) == 3 and {s.index for s in done} <= {s.index for s in weak}
    for section in done:
        first, rewrite = section.candidates
        assert rewrite.revision and rewrite.messages[-1]["content"] in rewrites
        assert section.chosen == 1 and section.text == rewrite.text and section.scores == rewrite.scores
        assert (
            rewrite.scores.score > first.scores.score and section.revise_tokens == rewrite.usage.total_tokens
        )
    assert doc.revise_tokens <= 2 * sum(first_tokens(s) for s in doc.sections)
    assert all(section.text in out.read_text("utf-8") for section in done)


def test_a_rewrite_that_scores_no_better_is_recorded_and_left() -> None:
    """Every rewrite drifts as far as the first answer: each is kept as a candidate (for the
    preference pairs) and the section keeps its first text (a tie keeps the first)."""

    def worse(messages: list[Message], params: GenerationParams) -> Completion:
        answer = drifting_reply(messages, params)
        if REWRITE in last_user(messages):
            return Completion(
                drifting(len(answer.text.split()), 99) + " Here is the text:", "stop", answer.usage
            )
        return answer

    settings = Settings(mode="parallel", revise=True, max_candidates=1)
    doc = asyncio.run(awrite(BRIEF, model=ScriptedModel(responder=worse), settings=settings))
    done = revised(doc.sections)
    assert len(done) == 3
    for section in done:
        first, rewrite = section.candidates
        assert rewrite.scores.score <= first.scores.score and rewrite.text != first.text
        assert section.chosen == 0 and section.text == first.text and section.scores == first.scores
        assert section.usage == first.usage + rewrite.usage


def test_a_worse_rewrite_never_replaces_a_better_text() -> None:
    """Odd sections' first answers keep to the point but hold a placeholder line (they fail
    ``talk``); every rewrite drifts: each scores lower, and the section keeps its first text."""

    def placeholder_then_drift(messages: list[Message], params: GenerationParams) -> Completion:
        answer = writer_reply(messages, params)
        prompt = last_user(messages)
        if REWRITE in prompt:
            return Completion(drifting(len(answer.text.split()), 7), answer.finish_reason, answer.usage)
        if drifts(prompt) is None:
            return answer
        first, _, rest = answer.text.partition(". ")
        return Completion(f"{first}.\n[Insert your name here]\n{rest}", answer.finish_reason, answer.usage)

    settings = Settings(mode="parallel", revise=True, max_candidates=1, revise_budget=2.0)
    doc = asyncio.run(awrite(BRIEF, model=ScriptedModel(responder=placeholder_then_drift), settings=settings))
    done = revised(doc.sections)
    assert len(done) == 3
    for section in done:
        first, rewrite = section.candidates
        assert first.scores.problems == ["talk"] and "off_topic" in rewrite.scores.problems
        assert rewrite.scores.score < first.scores.score
        assert section.chosen == 0 and section.text == first.text and section.scores == first.scores


def test_the_budget_bounds_the_rewrites() -> None:
    """Every section's first answer drifts; the checks' re-asks fix three, and the budget pays
    for only some rewrites of the rest: revise and check tokens together stay within
    revise_budget of the first answers', and the revise pass asks nothing with nothing left."""

    def all_drift(messages: list[Message], params: GenerationParams) -> Completion:
        return drifting_reply(messages, params, every=1)

    model = ScriptedModel(responder=all_drift)
    settings = Settings(mode="parallel", revise=True, revise_sections=10, revise_budget=0.6, check_budget=0.3)
    doc = asyncio.run(awrite(BRIEF, model=model, settings=settings))
    first = sum(first_tokens(s) for s in doc.sections)
    assert 0 < doc.check_tokens <= 0.3 * first
    weak = [s for s in doc.sections if s.candidates[s.chosen].scores.problems or revised([s])]
    assert 0 < len(revised(doc.sections)) < len(weak)
    assert doc.check_tokens + doc.revise_tokens <= 0.6 * first
    nothing_left = Settings(
        mode="parallel", revise=True, revise_sections=10, revise_budget=0.3, check_budget=0.3
    )
    model = ScriptedModel(responder=all_drift)
    doc = asyncio.run(awrite(BRIEF, model=model, settings=nothing_left))
    assert doc.check_tokens > 0 and revised(doc.sections) == []
    assert not any(REWRITE in last_user(call.messages) for call in model.calls)


def test_revise_off_asks_nothing_more() -> None:
    model = ScriptedModel(responder=drifting_reply)
    doc = asyncio.run(awrite(BRIEF, model=model, settings=Settings(mode="parallel", max_candidates=1)))
    assert doc.revise_tokens == 0 and all(s.candidates == [] for s in doc.sections)
    assert not any(REWRITE in last_user(call.messages) for call in model.calls)


def test_revise_needs_the_checks() -> None:
    with pytest.raises(ValueError, match="revise needs the section checks"):
        Settings(revise=True, checks=False)


class DiesInARewrite(ScriptedModel):
    """Dies in the rewrite of section ``dies`` (from 1), once the other rewrites have come back."""

    def __init__(self, dies: int, others: int) -> None:
        super().__init__(responder=drifting_reply)
        self.dies, self.others = dies, others
        self.answered = asyncio.Event()
        self.rewrites: list[int] = []

    async def complete(self, messages: list[Message], params: GenerationParams) -> Completion:
        prompt = last_user(messages)
        if REWRITE not in prompt:
            return await super().complete(messages, params)
        number = _rewritten(prompt)
        if number == self.dies:
            await self.answered.wait()
            await asyncio.sleep(0.2)  # lets the finished rewrites' tasks return
            raise RuntimeError("died")
        answer = await super().complete(messages, params)
        self.rewrites.append(number)
        if len(self.rewrites) == self.others:
            self.answered.set()
        return answer


def _rewritten(prompt: str) -> int:
    """The section (from 1) a rewrite's request asks for, by its title in the outline."""
    return asked_section(prompt.replace(" anew,", "").replace("Write the part", "Write only the part")) or 0


def test_a_run_killed_in_the_revise_pass_resumes_without_redoing_finished_rewrites(tmp_path: Path) -> None:
    settings = Settings(mode="parallel", revise=True, max_candidates=1)
    run = tmp_path / "run"
    dying = DiesInARewrite(dies=5, others=2)
    with pytest.raises(RuntimeError, match="died"):
        asyncio.run(awrite(BRIEF, model=dying, settings=settings, run_dir=run))
    assert len(dying.rewrites) == 2 and 5 not in dying.rewrites
    again = ScriptedModel(responder=drifting_reply)
    doc = asyncio.run(awrite(BRIEF, model=again, settings=settings, run_dir=run, resume=True))
    asked = [_rewritten(last_user(c.messages)) for c in again.calls]
    assert asked == [5]  # only the rewrite that died; no section written again
    done = revised(doc.sections)
    assert sorted(s.index + 1 for s in done) == sorted([*dying.rewrites, 5])
    assert all(len(s.candidates) == 2 and s.chosen == 1 for s in done)
    assert doc.revise_tokens <= 0.6 * sum(first_tokens(s) for s in doc.sections)
