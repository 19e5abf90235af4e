"""Export round trips through Hugging Face ``datasets``, and the ``agentwrite dataset`` commands."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from agentwrite.cli import app
from agentwrite.dataset.build import abuild_dataset
from agentwrite.dataset.export import FORMATS, export
from agentwrite.dataset.recipe import Recipe
from agentwrite.errors import InputError
from agentwrite.llm.base import GenerationParams
from agentwrite.settings import Settings
from agentwrite.testing.openai_server import OpenAIServer, Reply
from tests import dataset_fakes as fakes
from tests.conftest import ServedModel

PROMPTS = ["Write a 600-word essay on tea.", "写一篇600字的散文，主题是江南水乡。"]


@pytest.fixture(scope="module")
def build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("build")
    source = root / "in.jsonl"
    source.write_text("".join(json.dumps({"prompt": p}, ensure_ascii=False) + "\n" for p in PROMPTS), "utf-8")
    asyncio.run(
        abuild_dataset(source, root / "out", Settings(max_continuations=0), fakes.dataset_model(),
                       recipe=Recipe(concurrency=1))
    )  # fmt: skip
    return root / "out"


def pairs(build: Path) -> list[tuple[str, str]]:
    examples = [json.loads(line) for line in (build / "train.jsonl").read_text("utf-8").splitlines()]
    return [(e["messages"][0]["content"], e["messages"][1]["content"]) for e in examples]


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_loads_with_datasets(build: Path, fmt: str, tmp_path: Path) -> None:
    from datasets import load_dataset

    path = export(build, fmt, tmp_path / f"out.{fmt}")
    kind = "parquet" if fmt == "parquet" else "json"
    rows = load_dataset(
        kind, data_files=str(path), split="train", cache_dir=str(tmp_path / "cache")
    ).to_list()
    expected = pairs(build)
    assert [p for p, _ in expected] == PROMPTS
    if fmt in ("messages", "parquet"):
        got = [(r["messages"][0]["content"], r["messages"][1]["content"]) for r in rows]
        assert all([m["role"] for m in r["messages"]] == ["user", "assistant"] for r in rows)
    elif fmt == "sharegpt":
        got = [(r["conversations"][0]["value"], r["conversations"][1]["value"]) for r in rows]
        assert all([m["from"] for m in r["conversations"]] == ["human", "gpt"] for r in rows)
    else:
        got = [(r["instruction"], r["output"]) for r in rows]
        assert all(r["input"] == "" for r in rows)
    assert got == expected


def test_export_refuses_unknown_formats_and_non_build_folders(build: Path, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="unknown export format"):
        export(build, "csv")
    with pytest.raises(InputError, match=r"no train\.jsonl"):
        export(tmp_path, "messages")


def test_cli_export_and_stats(build: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["dataset", "export", str(build), "--format", "alpaca"])
    assert result.exit_code == 0, result.output
    assert Path(result.stdout.strip()) == build / "export" / "alpaca.jsonl"
    result = runner.invoke(app, ["dataset", "stats", str(build)])
    assert result.exit_code == 0, result.output
    stats = json.loads(result.stdout)
    assert stats["accepted"] == 2 and set(stats["by_language"]) == {"en", "zh"}
    result = runner.invoke(app, ["dataset", "export", str(build), "--format", "csv"])
    assert result.exit_code == 2 and "unknown export format" in result.output


def test_cli_build_reports_a_bad_recipe_as_bad_input(tmp_path: Path) -> None:
    (tmp_path / "recipe.yaml").write_text("concurrency: 0\n")
    (tmp_path / "in.jsonl").write_text('{"prompt": "Write."}\n')
    result = CliRunner().invoke(
        app, ["dataset", "build", str(tmp_path / "in.jsonl"), "--out", str(tmp_path / "o"),
              "--recipe", str(tmp_path / "recipe.yaml")],
    )  # fmt: skip
    assert result.exit_code == 2 and "concurrency" in result.output


@pytest.mark.vllm
def test_build_against_a_real_vllm_server(vllm_server: ServedModel, tmp_path: Path) -> None:
    """Three short documents from the bundled model; train.jsonl loads with ``datasets``."""
    from agentwrite.dataset.filters import FilterConfig
    from agentwrite.dataset.recipe import recipe_settings
    from datasets import load_dataset

    source = tmp_path / "in.jsonl"
    prompts = [
        "Write a 1000-word guide to making green tea.",
        "Write a 1000-word story about a lighthouse keeper.",
        "Write a 1000-word explainer on why leaves change colour.",
    ]
    source.write_text("".join(json.dumps({"prompt": p}) + "\n" for p in prompts))
    # 1000 words leave the 135M planner room for a few sections; it writes loosely, so the
    # filters keep every document and the file has three rows to load
    lenient = FilterConfig(
        min_words=1,
        min_length_score=0,
        max_repeated_ngram_rate=1,
        max_repeated_sentence_rate=1,
        max_artefacts=1000,
        near_duplicate_threshold=1,
    )
    recipe = Recipe(concurrency=3, filters=lenient)
    settings = recipe_settings(recipe, {"base_url": vllm_server.base_url, "model": vllm_server.model_name})
    stats = asyncio.run(abuild_dataset(source, tmp_path / "out", settings, recipe=recipe))
    assert stats["instructions"] == 3 and stats["usage"]["completion_tokens"] > 0
    rows = load_dataset("json", data_files=str(tmp_path / "out" / "train.jsonl"), split="train",
                        cache_dir=str(tmp_path / "cache")).to_list()  # fmt: skip
    # the 135M model, sampled, sometimes answers a section with nothing three times over:
    # that instruction is then rejected with its reason, never written as a row
    rejects_file = tmp_path / "out" / "rejects.jsonl"
    reject_lines = rejects_file.read_text().splitlines() if rejects_file.exists() else []
    rejects = [json.loads(line) for line in reject_lines]
    assert 1 <= stats["accepted"] == len(rows) == 3 - len(rejects)
    assert all(r["reason"] == "server error after retries" for r in rejects)
    answered = [r["messages"][0]["content"] for r in rows] + [r["prompt"] for r in rejects]
    assert sorted(answered) == sorted(prompts)
    assert all(r["messages"][1]["content"].strip() for r in rows)


def _http_reply(body: dict) -> Reply:  # type: ignore[type-arg]
    """The dataset fake, served over HTTP."""
    schema = (body.get("response_format") or {}).get("json_schema", {}).get("schema")
    params = GenerationParams(
        max_tokens=body["max_tokens"], min_tokens=body.get("min_tokens"), json_schema=schema
    )
    reply = fakes.dataset_reply(body["messages"], params)
    return Reply.completion(reply if isinstance(reply, str) else reply.text, delay=0.05)


def test_cli_build_over_http_with_a_recipe_and_flags(tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text(
        "".join(json.dumps({"prompt": f"Write a 700-word essay on topic {i}."}) + "\n" for i in range(4))
    )
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text(
        "settings: {max_continuations: 0, temperature: 0.2}\nconcurrency: 1\n"
        "filters: {min_length_score: 99.5}\n"
    )
    with OpenAIServer(_http_reply) as server:
        result = CliRunner().invoke(
            app,
            ["dataset", "build", str(source), "--out", str(tmp_path / "out"), "--recipe", str(recipe),
             "--concurrency", "4", "--min-length-score", "80", "--base-url", server.base_url],
        )  # fmt: skip
        assert result.exit_code == 0, result.output
        # the flag beat the recipe's 1 (on a loaded machine fewer than 4 may overlap at once)
        assert 2 <= server.max_concurrency <= 4
        assert {r.body["temperature"] for r in server.completion_requests()} == {0.2}
    assert "4 accepted, 0 rejected of 4 (100%)" in result.output  # the flag beat the recipe's 99.5
    meta = [json.loads(line) for line in (tmp_path / "out" / "meta.jsonl").read_text().splitlines()]
    assert {m["model"] for m in meta} == {"test-model"}
    assert {
        m["sampling"]["decoding"][role]["temperature"] for m in meta for role in ("planner", "writer")
    } == {0.2}
