"""Shards of a dataset build (``--shard I/N``) and their merge (``agentwrite dataset merge``)."""

from __future__ import annotations

import asyncio
import json
import shutil
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from agentwrite.cli import app
from agentwrite.dataset import merge as merge_module
from agentwrite.dataset import stats as stats_module
from agentwrite.dataset.build import abuild_dataset
from agentwrite.dataset.filters import FilterConfig
from agentwrite.dataset.instructions import Instruction
from agentwrite.dataset.journal import META, REJECTS, TRAIN
from agentwrite.dataset.merge import merge_builds
from agentwrite.dataset.recipe import Recipe
from agentwrite.dataset.shards import Shard, shard_of
from agentwrite.errors import InputError
from agentwrite.settings import Settings
from agentwrite.testing.fake_writer import writer_handler
from agentwrite.testing.openai_server import OpenAIServer
from tests import dataset_fakes as fakes
from tests.test_dataset_build import lines, write_jsonl

SETTINGS = Settings(max_continuations=0)
BAD_LINE = "this line is not JSON"


def essays(n: int) -> list[dict[str, Any]]:
    return [
        {"prompt": f"Write a 600-word essay on subject number {i}.", "id": f"doc-{i:02d}"} for i in range(n)
    ]


def source(folder: Path, records: list[dict[str, Any]]) -> Path:
    """An instruction file of ``records`` followed by one bad line."""
    path = write_jsonl(folder / "in.jsonl", records)
    with path.open("a", encoding="utf-8") as handle:
        handle.write(BAD_LINE + "\n")
    return path


def build(instructions: Path, out: Path, shard: Shard | None = None, **kwargs: Any) -> fakes.ScriptedModel:
    """A build with the scripted dataset model; returns the model, to count its calls."""
    model = fakes.dataset_model()
    recipe = kwargs.pop("recipe", Recipe(concurrency=2))
    asyncio.run(abuild_dataset(instructions, out, SETTINGS, model, recipe=recipe, shard=shard, **kwargs))
    return model


def rows(path: Path) -> set[str]:
    """A JSONL file's lines as a set of canonical JSON texts."""
    return {json.dumps(r, sort_keys=True, ensure_ascii=False) for r in lines(path)}


def only_line(output: str) -> str:
    (line,) = output.strip().splitlines()
    return line


def left_behind(parent: Path) -> list[str]:
    """Hidden merge folders that a failed merge would have left."""
    return [p.name for p in parent.iterdir() if p.name.endswith(".merging")]


@pytest.fixture(autouse=True)
def no_plots(monkeypatch: pytest.MonkeyPatch) -> None:
    """tests/test_dataset_build.py draws the length plot; here it would only cost seconds a build."""
    monkeypatch.setattr(stats_module, "plot_lengths", lambda records, path: path.write_bytes(b""))


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A finished unsharded build: four essays, a near-duplicate pair and a bad line."""
    root = tmp_path_factory.mktemp("built")
    same = [
        {"prompt": f"Write a 600-word essay on rivers. {fakes.SAME}", "id": "same-1"},
        {"prompt": f"Write a 600-word essay on lakes. {fakes.SAME}", "id": "same-2"},
    ]
    build(source(root, essays(4) + same), root / "out", recipe=Recipe(concurrency=1))
    return root / "out"


def test_shards_partition_ids_by_a_stable_hash_of_the_id() -> None:
    keys = [f"doc-{i:04d}" for i in range(2000)] + [f"input-line-{i}" for i in range(1, 300)]
    for count in (1, 2, 3, 7):
        owners = [[i for i in range(1, count + 1) if Shard(i, count).holds(key)] for key in keys]
        assert all(len(owner) == 1 for owner in owners)  # every key in exactly one shard
        sizes = Counter(owner[0] for owner in owners)
        assert min(sizes.values()) > 0.8 * len(keys) / count  # and the shards come out even
    # the same shards as when this test was written (no salted hash()), whatever the order
    pinned = {f"doc-{i:02d}": s for i, s in enumerate([3, 2, 3, 2, 2, 3, 2, 1, 3, 1, 1, 2])}
    assert {key: shard_of(key, 3) for key in pinned} == pinned
    records = [Instruction(key, "Write.", 600) for key in reversed(pinned)]
    assert [r.id for r in Shard(1, 3).select(records)] == ["doc-10", "doc-09", "doc-07"]


@pytest.mark.parametrize("spec", ["0/4", "5/4", "1/0", "abc", "1/4/2", "-1/4", "1.5/4", "", "2"])
def test_bad_shard_specs_exit_2_in_one_line_before_any_work(tmp_path: Path, spec: str) -> None:
    # the instruction file does not exist: reading it first would give another message
    result = CliRunner().invoke(
        app,
        ["dataset", "build", str(tmp_path / "missing.jsonl"), "--out", str(tmp_path / "o"), "--shard", spec],
    )
    assert result.exit_code == 2
    assert "--shard must be I/N with 1 <= I <= N" in only_line(result.output)
    assert not (tmp_path / "o").exists()


def test_shard_builds_merged_equal_one_unsharded_build(tmp_path: Path) -> None:
    short = {"prompt": f"Write a 600-word essay on clouds. {fakes.SHORT}", "id": "short"}
    instructions = source(tmp_path, [*essays(8), short])
    whole = build(instructions, tmp_path / "whole")
    shards = [tmp_path / f"s{i}" for i in (1, 2, 3)]
    calls = [len(build(instructions, folder, Shard(i, 3)).calls) for i, folder in enumerate(shards, 1)]
    assert sum(calls) == len(whole.calls)  # no document written twice or left out
    merged = tmp_path / "merged"
    merge_builds(shards, merged)

    ids = [{m["id"] for m in lines(s / META)} for s in shards]
    assert all(ids) and not (ids[0] & ids[1] or ids[0] & ids[2] or ids[1] & ids[2])
    everything = {f"doc-{i:02d}" for i in range(8)} | {"short", "input-line-10"}
    assert set.union(*ids) == everything == {m["id"] for m in lines(merged / META)}
    accepted = {m["id"] for m in lines(tmp_path / "whole" / META) if m["status"] == "accepted"}
    assert accepted == {m["id"] for m in lines(merged / META) if m["status"] == "accepted"}
    assert rows(merged / TRAIN) == rows(tmp_path / "whole" / TRAIN) and len(lines(merged / TRAIN)) == 8
    assert rows(merged / REJECTS) == rows(tmp_path / "whole" / REJECTS)
    stats = json.loads((merged / "stats.json").read_text())
    assert stats["instructions"] == 10 and stats["accepted"] == 8
    assert stats["reject_reasons"] == {"bad input line": 1, "too short": 1}
    record = json.loads((merged / "build.json").read_text())
    assert record["sources"] == list(map(str, shards)) and record["near_duplicates_dropped"] == []
    assert [s["shard"] for s in record["sessions"]] == ["1/3", "2/3", "3/3"]


def test_cli_builds_shards_over_http_and_merges_them(tmp_path: Path) -> None:
    records = [
        {"prompt": f"Write a 300-word essay on subject number {i}.", "id": f"doc-{i:02d}"} for i in range(4)
    ]
    instructions = source(tmp_path, records)
    runner = CliRunner()

    def cli(*args: str) -> str:
        result = runner.invoke(app, ["dataset", *args])
        assert result.exit_code == 0, result.output
        return result.output

    with OpenAIServer(writer_handler) as server:
        for i in (1, 2):
            cli("build", str(instructions), "--out", str(tmp_path / f"s{i}"), "-q", "--shard", f"{i}/2",
                "--min-words", "100", "--base-url", server.base_url)  # fmt: skip
    shards = [tmp_path / "s1", tmp_path / "s2"]
    for i, shard in enumerate(shards, 1):
        (session,) = json.loads((shard / "build.json").read_text())["sessions"]
        assert session["shard"] == f"{i}/2"
    ids = [{m["id"] for m in lines(s / META)} for s in shards]
    assert ids == [{"doc-00", "doc-02", "doc-03", "input-line-5"}, {"doc-01"}]
    output = cli("merge", *map(str, shards), "--out", str(tmp_path / "merged"))
    assert "4 accepted, 1 rejected of 5 (80%), 0 dropped as near-duplicates" in output
    merged = tmp_path / "merged"
    assert rows(merged / TRAIN) == rows(shards[0] / TRAIN) | rows(shards[1] / TRAIN)
    assert {m["id"] for m in lines(merged / META)} == ids[0] | ids[1]


def test_merging_one_build_gives_back_its_files_without_uncommitted_lines(
    built: Path, tmp_path: Path
) -> None:
    interrupted = tmp_path / "interrupted"
    shutil.copytree(built, interrupted)
    with (interrupted / TRAIN).open("ab") as handle:  # killed after a train line, before its meta line
        handle.write((built / TRAIN).read_bytes().splitlines(keepends=True)[0])
    with (interrupted / META).open("ab") as handle:  # killed in the middle of a meta line
        handle.write(b'{"id": "doc-09", "status": "acc')
    merged = merge_builds([interrupted], tmp_path / "merged")
    assert merged.duplicates == []
    for name in (TRAIN, REJECTS, META, "stats.json"):
        assert (tmp_path / "merged" / name).read_bytes() == (built / name).read_bytes(), name
    assert lines(built / REJECTS)[1]["reason"] == "duplicate"  # the build's own duplicate, kept as it was


def test_near_duplicates_across_shards_are_dropped_in_the_merge(tmp_path: Path) -> None:
    same = [
        {"prompt": f"Write a 600-word essay on rivers. {fakes.SAME}", "id": "same-a", "type": "essay"},
        {"prompt": f"Write a 600-word essay on lakes. {fakes.SAME}", "id": "same-1", "type": "essay"},
    ]
    assert (shard_of("same-a", 2), shard_of("same-1", 2)) == (2, 1)
    instructions = source(tmp_path, essays(4) + same)
    shards = [tmp_path / "s1", tmp_path / "s2"]
    for i, folder in enumerate(shards, 1):
        build(instructions, folder, Shard(i, 2))
    for folder, doc_id in zip(shards, ("same-1", "same-a"), strict=True):  # each kept in its own shard
        assert {m["id"]: m["status"] for m in lines(folder / META)}[doc_id] == "accepted"

    merged = merge_builds(shards, tmp_path / "merged")
    assert merged.duplicates == ["same-a"]  # the later shard's copy goes
    meta = {m["id"]: m for m in lines(tmp_path / "merged" / META)}
    dropped = meta["same-a"]
    assert (dropped["status"], dropped["reason"], dropped["near_duplicate_of"]) == (
        "rejected",
        "duplicate",
        "same-1",
    )
    assert dropped["filters"]["near_duplicate"] == {"value": 1.0, "threshold": 0.8, "passed": False}
    (reject,) = [r for r in lines(tmp_path / "merged" / REJECTS) if r["id"] == "same-a"]
    assert reject == {
        "id": "same-a", "reason": "duplicate", "detail": "near-duplicate of same-1 (estimated Jaccard 1.00)",
        "prompt": same[0]["prompt"], "length": 600, "type": "essay",
    }  # fmt: skip
    assert meta["same-1"]["status"] == "accepted" and meta["same-1"]["near_duplicate_of"] is None
    assert len(lines(tmp_path / "merged" / TRAIN)) == sum(
        1 for m in meta.values() if m["status"] == "accepted"
    )
    assert merged.stats["reject_reasons"] == {"bad input line": 1, "duplicate": 1}

    again = merge_builds(shards[::-1], tmp_path / "reversed")  # the order given decides which one stays
    assert again.duplicates == ["same-1"]


def test_a_shard_resumes_and_its_folder_refuses_another_shard(tmp_path: Path) -> None:
    instructions = source(tmp_path, essays(12))
    out, shard = tmp_path / "out", Shard(2, 3)
    mine = {f"doc-{i:02d}" for i in (1, 3, 4, 6, 11)}  # input-line-13 is in shard 1
    build(instructions, out, shard, limit=2)
    model = build(instructions, out, shard)
    assert len(model.calls) == 2 * 3  # the three documents left, a plan and a section each
    assert {m["id"] for m in lines(out / META)} == mine
    sessions = json.loads((out / "build.json").read_text())["sessions"]
    assert [s["shard"] for s in sessions] == ["2/3", "2/3"]
    for other, message in ((Shard(1, 3), "holds shard 2/3, not --shard 1/3"), (None, "not no --shard")):
        with pytest.raises(InputError, match=message):
            build(instructions, out, other)
    build(instructions, tmp_path / "whole", limit=1)
    with pytest.raises(InputError, match="holds an unsharded build, not --shard 2/3"):
        build(instructions, tmp_path / "whole", shard)


def test_merge_refuses_an_id_in_two_sources_naming_it(tmp_path: Path) -> None:
    instructions = write_jsonl(tmp_path / "in.jsonl", essays(1))
    build(instructions, tmp_path / "a")
    build(instructions, tmp_path / "b")
    result = CliRunner().invoke(
        app, ["dataset", "merge", str(tmp_path / "a"), str(tmp_path / "b"), "--out", str(tmp_path / "m")]
    )
    assert result.exit_code == 2
    assert "id 'doc-00' is in" in only_line(result.output)
    assert not (tmp_path / "m").exists() and left_behind(tmp_path) == []


def test_merge_refuses_shards_built_with_different_filters(tmp_path: Path) -> None:
    instructions = write_jsonl(tmp_path / "in.jsonl", essays(4))
    build(instructions, tmp_path / "a", Shard(1, 2))
    build(
        instructions,
        tmp_path / "b",
        Shard(2, 2),
        recipe=Recipe(filters=FilterConfig(near_duplicate_threshold=0.9)),
    )
    result = CliRunner().invoke(
        app, ["dataset", "merge", str(tmp_path / "a"), str(tmp_path / "b"), "--out", str(tmp_path / "m")]
    )
    assert result.exit_code == 2
    assert "different filters (near_duplicate_threshold: 0.8 vs. 0.9)" in only_line(result.output)
    assert not (tmp_path / "m").exists() and left_behind(tmp_path) == []


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("missing", "is not a dataset build folder"),
        ("empty", "is not a dataset build folder"),
        ("bad-record", "build.json is not a build record"),
        ("twice", "is given twice"),
        ("out-not-empty", "exists and is not empty"),
    ],
)
def test_merge_refuses_unusable_folders_before_writing(
    built: Path, tmp_path: Path, case: str, message: str
) -> None:
    folders, out = [str(built)], tmp_path / "m"
    if case == "missing":
        folders.append(str(tmp_path / "nowhere"))
    elif case == "empty":
        (tmp_path / "empty").mkdir()
        folders.append(str(tmp_path / "empty"))
    elif case == "bad-record":
        shutil.copytree(built, tmp_path / "copy")
        (tmp_path / "copy" / "build.json").write_text("{not json")
        folders.append(str(tmp_path / "copy"))
    elif case == "twice":
        folders.append(str(built))
    else:
        out.mkdir()
        (out / "notes.txt").write_text("mine")
    result = CliRunner().invoke(app, ["dataset", "merge", *folders, "--out", str(out)])
    assert result.exit_code == 2
    assert message in only_line(result.output)
    assert (not out.exists() or [p.name for p in out.iterdir()] == ["notes.txt"]) and left_behind(
        tmp_path
    ) == []


def test_a_merge_that_fails_while_writing_leaves_no_output(
    built: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cut = tmp_path / "cut"
    shutil.copytree(built, cut)
    write_jsonl(cut / META, [{**m, "id": "cut-" + m["id"]} for m in lines(built / META)])
    (cut / TRAIN).write_text("")  # its accepted rows are gone: found only after the first source is written
    with pytest.raises(InputError, match=r"accepted lines but its meta\.jsonl commits"):
        merge_builds([built, cut], tmp_path / "m")
    assert not (tmp_path / "m").exists() and left_behind(tmp_path) == []

    def crash(folder: Path) -> dict[str, Any]:
        raise OSError("disk full")

    monkeypatch.setattr(merge_module, "write_stats", crash)
    with pytest.raises(OSError, match="disk full"):
        merge_builds([built], tmp_path / "m")
    assert not (tmp_path / "m").exists() and left_behind(tmp_path) == []
