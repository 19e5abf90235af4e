"""``agentwrite dataset export --format hf|prompt-completion``: a build over HTTP, exported, loaded back."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from agentwrite.cli import app
from agentwrite.dataset.hf import export_hf, split_share
from agentwrite.errors import InputError
from agentwrite.testing.openai_server import OpenAIServer
from tests import dataset_fakes as fakes
from tests.test_dataset_export import _http_reply

INSTRUCTIONS = [
    {"prompt": f"Write a 600-word essay on subject number {i}.", "id": f"doc-{i:02d}"} for i in range(4)
] + [{"prompt": f"Write a 600-word essay on coffee. {fakes.SHORT}", "id": "short"}]
PROMPTS = {i["id"]: i["prompt"] for i in INSTRUCTIONS}


@pytest.fixture(scope="module")
def build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("hf")
    source = root / "in.jsonl"
    source.write_text("".join(json.dumps(i) + "\n" for i in INSTRUCTIONS))
    (root / "recipe.yaml").write_text(
        "settings: {max_continuations: 0, api_key: sk-secret-recipe}\nconcurrency: 4\n"
        "filters: {min_length_score: 80}\n"
    )
    with OpenAIServer(_http_reply) as server:
        result = CliRunner().invoke(
            app,
            ["dataset", "build", str(source), "--out", str(root / "out"),
             "--recipe", str(root / "recipe.yaml"), "--base-url", server.base_url, "--quiet"],
            env={"AGENTWRITE_API_KEY": "sk-secret-env"},
        )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "4 accepted, 1 rejected" in result.output
    return root / "out"


def export(*args: str) -> tuple[int, str]:
    """The exit code and stdout, or the error (stderr also shows ``datasets``' progress bars)."""
    result = CliRunner().invoke(app, ["dataset", "export", *args])
    return result.exit_code, result.stdout if result.exit_code == 0 else result.output


def accepted_ids(build: Path) -> list[str]:
    meta = [json.loads(line) for line in (build / "meta.jsonl").read_text().splitlines()]
    return [m["id"] for m in meta if m["status"] == "accepted"]


def test_hf_folder_has_ids_and_a_card(build: Path, tmp_path: Path) -> None:
    from datasets import load_from_disk

    code, output = export(str(build), "--format", "hf", "--out", str(tmp_path / "hf"))
    assert code == 0, output
    assert Path(output.strip()) == tmp_path / "hf"
    rows = load_from_disk(str(tmp_path / "hf")).to_list()
    assert [r["id"] for r in rows] == accepted_ids(build) and "short" not in {r["id"] for r in rows}
    assert sorted(r["id"] for r in rows) == [f"doc-{i:02d}" for i in range(4)]
    for row in rows:  # each id joined to its own document
        assert [m["role"] for m in row["messages"]] == ["user", "assistant"]
        assert row["messages"][0]["content"] == PROMPTS[row["id"]]
    card = (tmp_path / "hf" / "README.md").read_text()
    stats = json.loads((build / "stats.json").read_text())
    assert "![Lengths of the documents](lengths.png)" in card
    assert (tmp_path / "hf" / "lengths.png").read_bytes() == (build / "lengths.png").read_bytes()
    assert "5 instructions, 4 accepted, 1 rejected" in card
    assert f"| words | {stats['words']['mean']} | {stats['words']['median']} |" in card
    assert f"| tokens | {stats['tokens']['mean']} |" in card
    assert "- `test-model`" in card and "min_length_score: 80" in card and "concurrency: 4" in card
    assert "max_continuations: 0" in card and "Splits: train 4 rows" in card
    assert "sk-secret" not in card and "api_key" not in card
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary folder left


def test_prompt_completion_rows_and_a_deterministic_split(build: Path, tmp_path: Path) -> None:
    from datasets import load_from_disk

    folders = []
    for name in ("a", "b"):
        folder = tmp_path / name
        code, output = export(str(build), "-f", "prompt-completion", "-o", str(folder), "--test-size", "0.5")
        assert code == 0, output
        folders.append(load_from_disk(str(folder)))
    first, second = folders
    assert set(first) == {"train", "test"}
    assert {k: first[k].to_list() for k in first} == {k: second[k].to_list() for k in second}
    train, test = ({r["id"] for r in first[k]} for k in ("train", "test"))
    assert not train & test and train | test == set(accepted_ids(build))
    assert test == {i for i in accepted_ids(build) if split_share(i) < 0.5} and train and test
    for row in first["train"].to_list() + first["test"].to_list():
        assert set(row) == {"id", "prompt", "completion"}
        assert row["prompt"] == [{"role": "user", "content": PROMPTS[row["id"]]}]
        assert [m["role"] for m in row["completion"]] == ["assistant"] and row["completion"][0]["content"]
    assert "Splits: train" in (tmp_path / "a" / "README.md").read_text()


def test_bad_input_is_one_line_exit_2_and_writes_nothing(build: Path, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    for name in ("train.jsonl", "meta.jsonl", "build.json", "stats.json", "lengths.png"):
        (empty / name).write_bytes((build / name).read_bytes() if name != "train.jsonl" else b"")
    taken = tmp_path / "taken"
    taken.mkdir()
    (taken / "x").write_text("mine")
    out = tmp_path / "out"
    cases = {
        (str(tmp_path / "nowhere"), "-o", str(out)): "no such folder",
        (str(tmp_path), "-o", str(out)): "no train.jsonl",
        (str(empty), "-o", str(out)): "is empty",
        (str(build), "-o", str(out), "--test-size", "1.5"): "between 0 and 1",
        (str(build), "-o", str(out), "--test-size", "0"): "between 0 and 1",
        (str(build), "-o", str(taken)): "exists and is not empty",
    }
    for args, message in cases.items():
        code, output = export(args[0], "--format", "hf", *args[1:])
        assert code == 2 and message in output and len(output.strip().splitlines()) == 1, output
    assert not out.exists() and (taken / "x").read_text() == "mine"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty", "taken"]
    code, output = export(str(build), "--format", "messages", "--test-size", "0.2", "-o", str(out))
    assert code == 2 and "--test-size goes with" in output and not out.exists()
    with pytest.raises(InputError, match="is empty"):
        export_hf(empty, "hf")
    assert not (empty / "export").exists()


def test_a_build_that_kept_nothing_is_not_exported(build: Path, tmp_path: Path) -> None:
    """``datasets`` cannot load an empty JSON Lines or Parquet file: no format writes one."""
    none = tmp_path / "none"
    none.mkdir()
    for name in ("build.json", "stats.json", "lengths.png", "rejects.jsonl"):
        (none / name).write_bytes((build / name).read_bytes())
    (none / "train.jsonl").write_bytes(b"")
    rejected = [line for line in (build / "meta.jsonl").read_text().splitlines() if '"accepted"' not in line]
    assert rejected  # the fixture rejected one document
    (none / "meta.jsonl").write_text("\n".join(rejected) + "\n")
    for fmt in ("messages", "parquet", "hf", "prompt-completion"):
        code, output = export(str(none), "--format", fmt)
        assert code == 2 and len(output.strip().splitlines()) == 1, output
        assert "kept no examples: nothing to export" in output
    assert not (none / "export").exists()
