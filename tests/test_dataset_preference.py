"""``dataset export --format dpo|dpo-hf`` and ``dataset stats`` on a build's preference pairs
(``pairs.jsonl``, written here in the format ``dataset build --pairs`` writes)."""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from agentwrite.cli import app
from agentwrite.dataset.build import abuild_dataset
from agentwrite.dataset.hf import split_share
from agentwrite.dataset.recipe import Recipe
from agentwrite.settings import Settings
from tests import dataset_fakes as fakes

PROMPTS = [f"Write a 600-word essay on subject number {i}." for i in range(4)]


def pair(instruction_id: str, section: int, margin: float, separated_by: list[str]) -> dict[str, Any]:
    return {
        "id": f"{instruction_id}#s{section}", "instruction_id": instruction_id, "kind": "section",
        "prompt": [{"role": "system", "content": "You are a writer."},
                   {"role": "user", "content": f"Write section {section} of {instruction_id}."}],
        "chosen": f"Section {section} as kept.", "rejected": f"Here is section {section} you asked for.",
        "chosen_scores": {"combined": 0.9, "talk": 0},
        "rejected_scores": {"combined": 0.9 - margin, "talk": 2},
        "margin": margin, "separated_by": separated_by,
    }  # fmt: skip


@pytest.fixture(scope="module")
def build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A scripted build of four documents, with two section pairs for each of three of them."""
    root = tmp_path_factory.mktemp("pairs")
    source = root / "in.jsonl"
    source.write_text(
        "".join(json.dumps({"prompt": p, "id": f"doc-{i}"}) + "\n" for i, p in enumerate(PROMPTS))
    )
    asyncio.run(
        abuild_dataset(source, root / "out", Settings(max_continuations=0), fakes.dataset_model(),
                       recipe=Recipe(concurrency=1))
    )  # fmt: skip
    pairs = [
        pair(f"doc-{i}", s, 0.2 if s == 1 else 0.6, ["talk"] if s == 1 else ["talk", "on_topic"])
        for i in range(3)
        for s in (1, 2)
    ]
    (root / "out" / "pairs.jsonl").write_text("".join(json.dumps(p) + "\n" for p in pairs))
    return root / "out"


def run(*args: str) -> Any:
    return CliRunner().invoke(app, ["dataset", *args])


def without_pairs(build: Path, folder: Path, content: str | None) -> Path:
    """A copy of the build whose pairs.jsonl is missing (None) or holds ``content``."""
    shutil.copytree(build, folder, ignore=shutil.ignore_patterns("export", "pairs.jsonl"))
    if content is not None:
        (folder / "pairs.jsonl").write_text(content)
    return folder


def test_the_dpo_export_loads_with_datasets_in_trls_preference_form(build: Path, tmp_path: Path) -> None:
    from trl.data_utils import is_conversational

    from datasets import load_dataset

    result = run("export", str(build), "--format", "dpo", "--out", str(tmp_path / "dpo.jsonl"))
    assert result.exit_code == 0, result.output
    rows = load_dataset(
        "json", data_files=result.stdout.strip(), split="train", cache_dir=str(tmp_path / "c")
    )
    assert rows.column_names == ["id", "prompt", "chosen", "rejected"]
    assert rows["id"] == [f"doc-{i}#s{s}" for i in range(3) for s in (1, 2)]
    for row in rows:
        assert is_conversational(row)
        assert [m["role"] for m in row["prompt"]] == ["system", "user"]
        assert row["chosen"] == [{"role": "assistant", "content": row["chosen"][0]["content"]}]
        assert row["rejected"][0]["role"] == "assistant" and row["rejected"][0]["content"].startswith(
            "Here is"
        )


def test_the_dpo_folder_keeps_an_instructions_pairs_on_one_side_and_says_how_they_were_made(
    build: Path, tmp_path: Path
) -> None:
    from datasets import load_from_disk

    result = run(
        "export", str(build), "--format", "dpo-hf", "--out", str(tmp_path / "hf"), "--test-size", "0.5"
    )
    assert result.exit_code == 0, result.output
    data = load_from_disk(str(tmp_path / "hf"))
    sides = {k: {r["id"].split("#")[0] for r in data[k]} for k in ("train", "test")}
    assert sides["test"] == {i for i in ("doc-0", "doc-1", "doc-2") if split_share(i) < 0.5}
    assert not sides["train"] & sides["test"] and len(data["train"]) + len(data["test"]) == 6
    assert set(data["train"].column_names) == {"id", "prompt", "chosen", "rejected"}
    card = (tmp_path / "hf" / "README.md").read_text()
    assert "## Preference pairs" in card and "6 pairs from 3 instructions; by kind: section 6." in card
    assert "| margin | 0.4 | 0.4 | 0.2 | 0.6 |" in card
    assert "pairs per score): talk 6, on_topic 3." in card


def test_stats_count_the_pairs(build: Path) -> None:
    result = run("stats", str(build))
    assert result.exit_code == 0, result.output
    pairs = json.loads(result.stdout)["pairs"]
    assert (pairs["count"], pairs["instructions"], pairs["by_kind"]) == (6, 3, {"section": 6})
    assert pairs["separated_by"] == {"talk": 6, "on_topic": 3} and pairs["margin"]["max"] == 0.6
    assert "pairs" in json.loads((build / "stats.json").read_text())


def test_a_build_without_pairs_is_refused_in_one_line_before_writing(build: Path, tmp_path: Path) -> None:
    bad_line = json.dumps({**pair("doc-0", 1, 0.5, []), "chosen": ""}) + "\n"
    cases = {
        without_pairs(build, tmp_path / "none", None): "has no preference pairs",
        without_pairs(build, tmp_path / "empty", ""): "has no preference pairs",
        without_pairs(build, tmp_path / "bad", bad_line): "pairs.jsonl line 1: chosen",
    }
    for folder, message in cases.items():
        for fmt in ("dpo", "dpo-hf"):
            result = run("export", str(folder), "--format", fmt)
            lines = result.stderr.strip().splitlines()
            assert result.exit_code == 2 and len(lines) == 1 and message in lines[0], result.output
        assert not (folder / "export").exists()
    result = run("stats", str(tmp_path / "none"))
    assert result.exit_code == 0 and "pairs" not in json.loads(result.stdout)
