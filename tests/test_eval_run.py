"""Running a suite: predictions, failures, resuming, concurrency, and the agent target."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agentwrite.errors import InputError, ModelRequestError, PromptTooLong, ServerUnreachable
from agentwrite.evaluation.predict import DIRECT_MAX_TOKENS, arun_suite, finished_keys
from agentwrite.evaluation.suites import load_suite
from agentwrite.length import count_words, parse_target
from agentwrite.llm.base import GenerationParams, Message
from agentwrite.llm.context_window import output_room
from agentwrite.settings import Settings
from agentwrite.testing.fake_writer import prose
from agentwrite.testing.scripted_model import ScriptedModel
from tests.scripted import writer_model

SMOKE = Path(__file__).resolve().parent.parent / "eval" / "suites" / "smoke.jsonl"


def half_length(messages: list[Message], params: GenerationParams) -> str:
    """A direct answer of half the words the prompt asks for."""
    return prose((parse_target(messages[-1]["content"]) or 100) // 2)


def lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text("utf-8").splitlines()]


async def test_a_direct_answer_gets_the_room_the_window_leaves_and_is_refitted_if_refused(
    tmp_path: Path,
) -> None:
    """The direct baseline sizes max_tokens as the agent does (the same gauge and margin)
    and, refused for length, asks again with a prompt counted larger, not a failure."""
    refusals: list[int] = []

    def refuse_once(messages: list[Message], params: GenerationParams) -> str:
        if not refusals:
            refusals.append(params.max_tokens)
            raise PromptTooLong("http://127.0.0.1:1/v1", 400, "too long", prompt_tokens=900)
        return half_length(messages, params)

    model = ScriptedModel(responder=refuse_once)
    summary = await arun_suite(SMOKE, tmp_path, "direct", Settings(max_context=2048), model, limit=1)
    assert (summary.done, summary.failed) == (1, 0)
    asked = [c.params.max_tokens for c in model.calls]
    assert asked[0] == output_room(2048, model.calls[0].messages, DIRECT_MAX_TOKENS)  # as the agent's
    assert asked[1] < asked[0]  # the refusal taught the gauge that the prompt is larger
    [row] = lines(tmp_path / "predictions.jsonl")
    assert row["usage"]["refused"] == 1


def test_a_direct_answer_never_asks_past_the_ceiling() -> None:
    assert output_room(10**6, [{"role": "user", "content": "a"}], DIRECT_MAX_TOKENS) == DIRECT_MAX_TOKENS


async def test_direct_run_writes_predictions(tmp_path: Path) -> None:
    model = ScriptedModel(responder=half_length, delay=0.01)
    settings = Settings(max_context=8192, temperature=0.5)
    summary = await arun_suite(SMOKE, tmp_path, "direct", settings, model, concurrency=2)
    assert (summary.total, summary.skipped, summary.done, summary.failed) == (4, 0, 4, 0)
    assert model.max_concurrency == 2
    rows = {row["length"]: row for row in lines(tmp_path / "predictions.jsonl")}
    assert sorted(rows) == [100, 200, 400, 600]
    row = rows[400]
    assert row["response_length"] == count_words(row["response"]) == 200
    assert row["target"] == "direct" and row["finish_reason"] == "stop" and row["usage"]["requests"] == 1
    assert list(row)[:5] == ["prompt", "type", "length", "key", "response"]
    call = next(c for c in model.calls if "cat who learns" in c.prompt)
    assert call.messages == [
        {"role": "user", "content": row["prompt"]}
    ]  # the prompt alone, as LongBench-Write
    assert call.params.temperature == 0.5
    assert call.params.max_tokens == output_room(8192, call.messages, DIRECT_MAX_TOKENS)
    assert json.loads((tmp_path / "run.json").read_text())["target"] == "direct"


async def test_longest_prompts_start_first(tmp_path: Path) -> None:
    model = ScriptedModel(responder=half_length)
    await arun_suite(SMOKE, tmp_path, "direct", Settings(max_context=8192), model, concurrency=1)
    asked = [parse_target(c.prompt) for c in model.calls]
    assert asked == [600, 400, 200, 100]


async def test_failures_are_recorded_and_retried_on_resume(tmp_path: Path) -> None:
    def flaky(messages: list[Message], params: GenerationParams) -> str:
        if "桂花" in messages[-1]["content"]:
            raise ModelRequestError("http://127.0.0.1:1/v1", 500, "boom")
        return half_length(messages, params)

    settings = Settings(max_context=8192)
    first = await arun_suite(SMOKE, tmp_path, "direct", settings, ScriptedModel(responder=flaky))
    assert (first.done, first.failed) == (3, 1)
    [failure] = lines(tmp_path / "failures.jsonl")
    assert (
        failure["length"] == 200 and failure["error"] == "ModelRequestError" and "boom" in failure["reason"]
    )
    assert all("boom" not in row["response"] for row in lines(tmp_path / "predictions.jsonl"))

    again = ScriptedModel(responder=half_length)
    second = await arun_suite(SMOKE, tmp_path, "direct", settings, again)
    assert (second.skipped, second.done, second.failed) == (3, 1, 0)
    assert len(again.calls) == 1 and "桂花" in again.calls[0].prompt
    assert len(lines(tmp_path / "predictions.jsonl")) == 4


async def test_an_unreachable_server_stops_the_run(tmp_path: Path) -> None:
    model = ScriptedModel([ServerUnreachable("http://127.0.0.1:1/v1", "refused")] * 4)
    with pytest.raises(ServerUnreachable):
        await arun_suite(SMOKE, tmp_path, "direct", Settings(max_context=8192), model, concurrency=1)
    assert len(model.calls) == 1
    assert not (tmp_path / "failures.jsonl").read_text()


class NamedByServer(ScriptedModel):
    """A model whose name is known only after its first answer, as a server's is."""

    @property
    def name(self) -> str:
        return "served-model" if self.calls else "(first model at the server)"


async def test_a_stopped_run_keeps_the_model_name(tmp_path: Path) -> None:
    model = NamedByServer(["An answer.", ServerUnreachable("http://127.0.0.1:1/v1", "refused")])
    with pytest.raises(ServerUnreachable):
        await arun_suite(SMOKE, tmp_path, "direct", Settings(max_context=8192), model, concurrency=1)
    assert json.loads((tmp_path / "run.json").read_text())["model"] == "served-model"


async def test_a_torn_last_line_is_dropped_on_resume(tmp_path: Path) -> None:
    await arun_suite(
        SMOKE, tmp_path, "direct", Settings(max_context=8192), ScriptedModel(responder=half_length), limit=2
    )
    path = tmp_path / "predictions.jsonl"
    keys = finished_keys(path)
    assert len(keys) == 2
    path.write_text(path.read_text() + '{"prompt": "half a li', "utf-8")
    assert finished_keys(path) == keys
    assert path.read_text().endswith("}\n")


async def test_a_folder_holds_one_target(tmp_path: Path) -> None:
    await arun_suite(
        SMOKE, tmp_path, "direct", Settings(max_context=8192), ScriptedModel(responder=half_length), limit=1
    )
    with pytest.raises(InputError, match="target 'direct'"):
        await arun_suite(SMOKE, tmp_path, "agentwrite", Settings(), writer_model(), limit=1)


async def test_agent_run_keeps_the_sidecar(tmp_path: Path) -> None:
    settings = Settings(min_section_words=100, max_section_words=300)
    summary = await arun_suite(SMOKE, tmp_path, "agentwrite", settings, writer_model(), concurrency=2)
    assert (summary.done, summary.failed) == (4, 0)
    items = {item.key: item for item in load_suite(SMOKE)}
    for row in lines(tmp_path / "predictions.jsonl"):
        sidecar = json.loads((tmp_path / "documents" / f"{row['key']}.json").read_text("utf-8"))
        assert sidecar["brief"]["target_words"] == items[row["key"]].length
        assert row["response"].startswith("# ") and row["sections"] == len(sidecar["sections"])
        assert row["response_length"] == count_words(row["response"])
    again = await arun_suite(SMOKE, tmp_path, "agentwrite", settings, writer_model())
    assert (again.skipped, again.done) == (4, 0)


async def test_an_agent_run_resumed_in_another_mode_says_so(tmp_path: Path) -> None:
    sequential = Settings(min_section_words=100, max_section_words=300)
    await arun_suite(SMOKE, tmp_path, "agentwrite", sequential, writer_model(), limit=1)
    parallel = sequential.model_copy(update={"mode": "parallel"})
    await arun_suite(SMOKE, tmp_path, "agentwrite", parallel, writer_model(), limit=2)
    await arun_suite(SMOKE, tmp_path, "agentwrite", parallel, writer_model(), limit=3)
    modes = [row["mode"] for row in lines(tmp_path / "predictions.jsonl")]
    assert modes == ["sequential", "parallel", "parallel"]
    assert json.loads((tmp_path / "run.json").read_text())["mode"] == "sequential, parallel"
