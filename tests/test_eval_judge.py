"""The judge's rating parser against malformed answers, and its retry policy."""

from __future__ import annotations

import json

import pytest

from agentwrite.errors import ModelRequestError, ServerUnreachable
from agentwrite.evaluation.judge import JudgeError, fit_response, judge, parse_ratings, shorten
from agentwrite.evaluation.longbench import DIMENSIONS
from agentwrite.length import estimate_tokens
from agentwrite.testing.scripted_model import ScriptedModel

GOOD = dict(zip(DIMENSIONS, [5, 4, 3, 2, 1, 4], strict=True))
GOOD_JSON = json.dumps(GOOD)


@pytest.mark.parametrize(
    "answer",
    [
        GOOD_JSON,
        f"```json\n{GOOD_JSON}\n```",
        f"Here is my assessment.\n{GOOD_JSON}\nI hope this helps {{really}}.",
        "Scoring: {not json} then " + GOOD_JSON,
        json.dumps({"scores": GOOD}),  # wrapped one level down
        json.dumps({k.replace("_", " ").title(): v for k, v in GOOD.items()}),  # "Breadth And Depth"
        json.dumps({**{k: str(v) for k, v in GOOD.items()}, "comment": "fine"}),  # digit strings, extra key
    ],
)
def test_parser_finds_the_ratings(answer: str) -> None:
    assert parse_ratings(answer) == GOOD


@pytest.mark.parametrize(
    ("answer", "problem"),
    [
        ("", "no JSON object found"),
        ("I would rate it highly overall.", "no JSON object found"),
        ('{"relevance": 5, "accuracy": 4', "no JSON object found"),  # cut off
        (json.dumps({**GOOD, "clarity": 0}), "clarity is 0, outside 1-5"),
        (json.dumps({**GOOD, "clarity": 6}), "clarity is 6, outside 1-5"),
        (json.dumps({**GOOD, "accuracy": 3.5}), "accuracy is not an integer"),
        (json.dumps({**GOOD, "accuracy": True}), "accuracy is not an integer"),
        (json.dumps({**GOOD, "accuracy": "high"}), "accuracy is not an integer"),
        (json.dumps({k: v for k, v in GOOD.items() if k != "coherence"}), "missing coherence"),
    ],
)
def test_parser_rejects_what_it_cannot_trust(answer: str, problem: str) -> None:
    with pytest.raises(JudgeError, match=problem):
        parse_ratings(answer)


def test_an_object_inside_a_list_is_still_found() -> None:
    assert parse_ratings(json.dumps([GOOD])) == GOOD


def test_shorten_keeps_both_ends() -> None:
    text, cut = shorten("a" * 10 + "b" * 10, 10)
    assert cut and text.startswith("a" * 5) and text.endswith("b" * 5) and "10 characters omitted" in text


async def test_judge_retries_then_succeeds() -> None:
    model = ScriptedModel(["not a rating", json.dumps({**GOOD, "clarity": 9}), GOOD_JSON])
    verdict = await judge(model, "Write a poem", "Roses.", attempts=3)
    assert verdict.ratings == GOOD and verdict.attempts == 3 and not verdict.truncated
    assert [c.params.temperature for c in model.calls] == [0.0, 0.7, 0.7]
    assert model.calls[0].params.json_schema is not None
    assert "Write a poem" in model.calls[0].prompt and "Roses." in model.calls[0].prompt
    # each retry shows the unusable answer and what was wrong with it
    retry = model.calls[2].messages
    assert [m["role"] for m in retry] == ["user", "assistant", "user"]
    assert retry[0] == model.calls[0].messages[0] and retry[1]["content"] == json.dumps(
        {**GOOD, "clarity": 9}
    )
    assert "clarity is 9, outside 1-5" in retry[2]["content"]


async def test_a_retry_that_would_not_fit_the_window_is_asked_afresh() -> None:
    model = ScriptedModel(["junk " * 300, GOOD_JSON])
    response = "alpha " * 3000
    verdict = await judge(model, "Write", response, max_context=2048)
    assert verdict.attempts == 2
    assert model.calls[1].messages == model.calls[0].messages  # the echo would not fit: asked afresh


async def test_judge_gives_up_after_its_attempts() -> None:
    model = ScriptedModel(["{}", "{}"])
    with pytest.raises(JudgeError, match="2 attempts"):
        await judge(model, "Write", "Text", attempts=2)
    assert len(model.calls) == 2


async def test_judge_drops_the_schema_when_the_server_refuses_it() -> None:
    model = ScriptedModel(
        [ModelRequestError("http://127.0.0.1:1/v1", 400, "response_format unsupported"), GOOD_JSON]
    )
    verdict = await judge(model, "Write", "Text")
    assert verdict.attempts == 2
    assert model.calls[1].params.json_schema is None


async def test_judge_stops_at_once_when_the_server_is_down() -> None:
    model = ScriptedModel([ServerUnreachable("http://127.0.0.1:1/v1", "refused"), GOOD_JSON])
    with pytest.raises(ServerUnreachable):
        await judge(model, "Write", "Text")
    assert len(model.calls) == 1


async def test_judge_cuts_a_long_response_and_says_so() -> None:
    model = ScriptedModel([GOOD_JSON])
    verdict = await judge(model, "Write", "word " * 1000, max_response_chars=100)
    assert verdict.truncated
    assert "characters omitted" in model.calls[0].prompt


async def test_judge_fits_a_long_response_into_its_context_window() -> None:
    model = ScriptedModel([GOOD_JSON])
    response = "alpha " * 3000 + "omega"
    verdict = await judge(model, "Write", response, max_context=2048)
    prompt = model.calls[0].prompt
    assert verdict.truncated and "characters omitted" in prompt
    assert prompt.rstrip().endswith('"reading_experience": R}') and "omega" in prompt
    assert estimate_tokens(prompt) + 400 <= 2048
    assert estimate_tokens(prompt) > 2048 - 400 - 200  # cut no more than needed


async def test_judge_without_room_for_any_response_fails_without_a_call() -> None:
    model = ScriptedModel([GOOD_JSON])
    with pytest.raises(JudgeError, match="does not fit"):
        await judge(model, "Write", "Text", max_context=300)
    assert model.calls == []


def test_fit_response_leaves_a_short_response_whole() -> None:
    assert fit_response("Write", "A short answer.", 60_000, 4096) == ("A short answer.", False)


class LateNamedJudge(ScriptedModel):
    """A server-backed judge whose name is known only once its server was asked."""

    def __init__(self) -> None:
        super().__init__(responder=lambda messages, params: json.dumps(dict.fromkeys(DIMENSIONS, 4)))
        self._name = "(first model at http://127.0.0.1:9/v1)"

    async def context_window(self) -> int | None:
        self._name = "judge-7b"
        return 4096


async def test_the_judge_cache_is_keyed_on_the_servers_model_name(tmp_path) -> None:
    from agentwrite.evaluation.judge_cache import JUDGEMENTS, judge_all, judge_id

    rows = [{"key": "k1", "prompt": "Write about tea.", "response": "Tea grows on hills."}]
    found, failures = await judge_all(rows, tmp_path, LateNamedJudge(), 1, 1, max_context=2048)
    assert failures == [] and found["k1"]["judge"] == "judge-7b"
    (record,) = [json.loads(line) for line in (tmp_path / JUDGEMENTS).read_text().splitlines()]
    assert record["id"] == judge_id("k1", "Tea grows on hills.", "judge-7b")
