"""Instruction files: reading, bad lines, the seed set, and generation with a scripted model."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest

from agentwrite.dataset.instructions import (
    InstructionSeeds,
    generate_instructions,
    instruction_id,
    read_instructions,
    write_instructions,
)
from agentwrite.errors import ModelError, ModelRequestError
from agentwrite.length import DEFAULT_TARGET_WORDS, parse_target
from agentwrite.llm.base import GenerationParams, Message
from agentwrite.testing.scripted_model import ScriptedModel

REPO = Path(__file__).resolve().parent.parent
SEED_SET = REPO / "datasets" / "instructions" / "seed.jsonl"


def test_bom_crlf_missing_fields_and_extra_fields(tmp_path: Path) -> None:
    rows = [
        {"prompt": "Write a 3,000-word guide to Porto.", "type": "travel", "id": "a", "source": "me"},
        {"prompt": "写一篇5000字的游记"},
        {"prompt": "Write a poem about rain.", "length": 200.0},
        {"prompt": "Write about tea."},
    ]
    data = "\ufeff" + "\r\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\r\n\r\n"
    (tmp_path / "in.jsonl").write_bytes(data.encode("utf-8"))
    items, bad = read_instructions(tmp_path / "in.jsonl")
    assert bad == []
    assert [(i.id, i.length, i.type, i.line, i.length_source) for i in items] == [
        ("a", 3000, "travel", 1, "prompt"),
        (instruction_id("写一篇5000字的游记"), 5000, "unknown", 2, "prompt"),
        (instruction_id("Write a poem about rain."), 200, "unknown", 3, "given"),
        (instruction_id("Write about tea."), DEFAULT_TARGET_WORDS, "unknown", 4, "default"),
    ]
    assert items[0].as_json() == {**rows[0], "length": 3000}
    assert items[1].language == "zh"


def test_bad_lines_are_reported_with_their_numbers_and_the_rest_is_read(tmp_path: Path) -> None:
    lines = [
        b'{"prompt": "Write a 2000-word story.", "id": "ok"}',
        b"not json at all",
        b'{"length": 3000}',
        b'{"prompt": "   "}',
        b'{"prompt": "Write an essay.", "length": 0}',
        b'{"prompt": "Write an essay.", "length": 1000000000}',
        b'{"prompt": "Write an essay.", "length": "long"}',
        b'{"prompt": "Write an essay.", "length": true}',
        b'{"prompt": "Another 2000-word story.", "id": "ok"}',
        b'{"prompt": "Bad id.", "id": "../etc"}',
        b'["prompt"]',
        b'{"prompt": "caf\xe9"}',
        b'{"prompt": "Write a 4000-word story.", "id": "last-good"}',
        b'{"prompt": "Write a 2000-word',
    ]
    (tmp_path / "in.jsonl").write_bytes(b"\n".join(lines))
    items, bad = read_instructions(tmp_path / "in.jsonl")
    assert [i.id for i in items] == ["ok", "last-good"]
    assert [(b.line, b.reason) for b in bad] == [
        (2, "not JSON (Expecting value)"),
        (3, "no prompt (a non-empty string is required)"),
        (4, "no prompt (a non-empty string is required)"),
        (5, "length 0 is out of range (1 to 100000 words)"),
        (6, "length 1000000000 is out of range (1 to 100000 words)"),
        (7, 'length must be an integer, got "long"'),
        (8, "length must be an integer, got true"),
        (9, "duplicate id 'ok' (first on line 1)"),
        (10, "id must be 1-128 characters of letters, digits, '.', '_' or '-'"),
        (11, "not a JSON object"),
        (12, "not valid UTF-8"),
        (14, "truncated last line"),
    ]
    assert bad[0].id == "input-line-2" and bad[0].text == "not json at all"


def test_write_then_read_round_trips(tmp_path: Path) -> None:
    items, _ = read_instructions(SEED_SET)
    assert write_instructions(tmp_path / "copy.jsonl", items) == len(items)
    assert (tmp_path / "copy.jsonl").read_bytes() == SEED_SET.read_bytes()


def test_the_seed_set_meets_its_specification() -> None:
    items, bad = read_instructions(SEED_SET)
    assert bad == [] and len(items) >= 100
    languages = Counter(i.language for i in items)
    assert languages["en"] >= 40 and languages["zh"] >= 40
    assert len({i.type for i in items}) >= 7
    assert min(i.length for i in items) == 2000 and max(i.length for i in items) == 20000
    assert all(i.length_source == "given" and parse_target(i.prompt) == i.length for i in items)
    assert len({" ".join(i.prompt.lower().split()) for i in items}) == len(items)


def test_the_seeds_file_loads() -> None:
    seeds = InstructionSeeds.load(REPO / "datasets" / "instructions" / "seeds.yaml")
    assert len(seeds.genres) >= 7 and all(seeds.topics[lang] for lang in ("en", "zh"))


SEEDS = InstructionSeeds(
    genres=[{"type": "history", "en": "narrative history", "zh": "历史长文", "lengths": (2000, 3000)}],
    topics={"en": ["bridges", "paper"], "zh": ["茶马古道"]},
)
_ASKED = re.compile(r"Topic: (?P<topic>.+)\n.*\n.*exactly (?P<length>\d+) words")


def answer(messages: list[Message], params: GenerationParams) -> str:
    """A cooperative model: a request in the asked language naming the asked length."""
    assert params.json_schema is not None
    asked = _ASKED.search(messages[0]["content"])
    assert asked is not None
    topic, length = asked.group("topic"), int(asked.group("length"))
    if "Chinese" in messages[0]["content"]:
        return json.dumps(
            {"prompt": f"请写一篇{length}字的历史长文，主题是{topic}，面向中学生。"}, ensure_ascii=False
        )
    return json.dumps({"prompt": f"Write a {length}-word narrative history of {topic} for teenagers."})


async def test_generation_keeps_distinct_usable_instructions() -> None:
    model = ScriptedModel(responder=answer)
    items = await generate_instructions(model, 20, SEEDS, concurrency=4, seed=3, max_attempts=60)
    prompts = [i.prompt for i in items]
    # one per topic: prompts that differ only in their number are near copies (numbers are not words)
    assert len(items) == 3 and len(set(prompts)) == 3
    assert all(parse_target(i.prompt) == i.length and i.type == "history" for i in items)
    assert {i.extra["topic"] for i in items} == {"bridges", "paper", "茶马古道"}
    assert len(model.calls) == 60
    again = await generate_instructions(ScriptedModel(responder=answer), 20, SEEDS, concurrency=4, seed=3,
                                        max_attempts=60)  # fmt: skip
    assert [i.prompt for i in again] == prompts


async def test_generation_drops_wrong_replies_and_avoids_existing_prompts() -> None:
    replies = [
        '```json\n{"prompt": "Write a 2000-word narrative history of bridges for teenagers."}\n```',
        '{"prompt": "Write a 999-word history of paper for children."}',  # wrong length
        '{"prompt": "请写一篇2000字的文章。"}',  # wrong language (English was asked)
        "Write a 2000-word narrative history of paper for teenagers.",  # plain text is accepted
    ]
    model = ScriptedModel(replies)
    existing = ["Write a 2000-word narrative history of bridges for teenagers!"]
    english = InstructionSeeds(
        genres=[{"type": "history", "en": "narrative history", "zh": "历史长文", "lengths": (2000, 2000)}],
        topics={"en": ["bridges"], "zh": []},
    )
    items = await generate_instructions(
        model, 4, english, concurrency=4, max_attempts=4, existing=existing, retries=0
    )
    assert [i.prompt for i in items] == ["Write a 2000-word narrative history of paper for teenagers."]


async def test_a_wrong_reply_is_asked_again_with_its_problem() -> None:
    def answer_once_wrong(messages: list[Message], params: GenerationParams) -> str:
        if len(messages) == 1:
            return '{"prompt": "Write a 999-word history of bridges for teenagers."}'
        return '{"prompt": "Write a 2000-word history of bridges for teenagers."}'

    model = ScriptedModel(responder=answer_once_wrong)
    english = InstructionSeeds(
        genres=[{"type": "history", "en": "narrative history", "zh": "历史长文", "lengths": (2000, 2000)}],
        topics={"en": ["bridges"], "zh": []},
    )
    items = await generate_instructions(model, 1, english, concurrency=1, max_attempts=1)
    assert [i.prompt for i in items] == ["Write a 2000-word history of bridges for teenagers."]
    retry = model.calls[1].messages
    assert [m["role"] for m in retry] == ["user", "assistant", "user"]
    assert "names 999 words; the instruction must ask for exactly 2000 words" in retry[2]["content"]
    plain = ScriptedModel(responder=answer_once_wrong)  # without retries the wrong reply is dropped
    assert await generate_instructions(plain, 1, english, concurrency=1, max_attempts=1, retries=0) == []
    assert len(plain.calls) == 1


async def test_a_batch_of_failures_raises() -> None:
    model = ScriptedModel([ModelRequestError("http://127.0.0.1:9/v1", 500, "boom")] * 2)
    with pytest.raises(ModelError, match="every request of a batch failed"):
        await generate_instructions(model, 2, SEEDS, concurrency=2)


@pytest.mark.parametrize("name", ["longwrite-v1.yaml", "bundled-smoke.yaml"])
def test_the_shipped_recipes_load(name: str) -> None:
    from agentwrite.dataset.recipe import load_recipe, recipe_settings

    recipe = load_recipe(REPO / "datasets" / "recipes" / name)
    settings = recipe_settings(recipe, {"base_url": "http://127.0.0.1:8000/v1"})
    assert settings.base_url == ["http://127.0.0.1:8000/v1"] and recipe.concurrency >= 1
    assert all(getattr(settings, name) == value for name, value in recipe.settings.items())
