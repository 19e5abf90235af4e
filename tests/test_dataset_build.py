"""Dataset builds with the scripted model: formats, filters, failures, concurrency, resume."""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from agentwrite.dataset.build import abuild_dataset
from agentwrite.dataset.filters import FilterConfig
from agentwrite.dataset.instructions import instruction_id
from agentwrite.dataset.journal import META, REJECTS, TRAIN, recover
from agentwrite.dataset.recipe import Recipe
from agentwrite.errors import InputError, ServerUnreachable
from agentwrite.evaluation.longbench import length_score
from agentwrite.files.run_folder import claim_run_dir
from agentwrite.llm.base import Completion, GenerationParams, Message
from agentwrite.settings import Settings
from agentwrite.testing.scripted_model import ScriptedModel
from tests import dataset_fakes as fakes

REPO = Path(__file__).resolve().parent.parent
SETTINGS = Settings(max_continuations=0)


def lines(path: Path) -> list[dict[str, Any]]:
    """Every line of a JSONL file, each of which must be whole, valid JSON."""
    data = path.read_bytes()
    assert data == b"" or data.endswith(b"\n"), f"{path.name} ends in a partial line"
    return [json.loads(line) for line in data.splitlines()]


def write_jsonl(path: Path, records: list[object], tail: str = "") -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records) + tail, "utf-8")
    return path


def instructions(n: int, words: int = 600) -> list[dict[str, Any]]:
    return [
        {
            "prompt": f"Write a {words}-word essay on subject number {i}.",
            "type": "essay",
            "id": f"doc-{i:02d}",
        }
        for i in range(n)
    ]


def check_consistent(out: Path, expected_ids: set[str]) -> dict[str, dict[str, Any]]:
    """Each id committed exactly once; train and rejects lines match meta one to one."""
    meta, train, rejects = lines(out / META), lines(out / TRAIN), lines(out / REJECTS)
    ids = [m["id"] for m in meta]
    assert sorted(ids) == sorted(expected_ids)
    accepted = [m for m in meta if m["status"] == "accepted"]
    assert len(train) == len(accepted)
    assert [r["id"] for r in rejects] == [m["id"] for m in meta if m["status"] == "rejected"]
    for m, example in zip(accepted, train, strict=True):
        assert example["messages"][0]["content"].endswith(f"number {int(m['id'][4:])}.")
    return {m["id"]: m for m in meta}


async def test_build_writes_the_longwriter_format_and_records(tmp_path: Path) -> None:
    source = write_jsonl(tmp_path / "in.jsonl", instructions(3))
    model = fakes.dataset_model()
    stats = await abuild_dataset(source, tmp_path / "out", SETTINGS, model, recipe=Recipe(concurrency=1))
    out = tmp_path / "out"

    train = lines(out / TRAIN)
    meta = lines(out / META)
    assert len(train) == 3
    for example, item, record in zip(train, instructions(3), meta, strict=True):
        assert list(example) == ["messages"]
        user, assistant = example["messages"]
        assert user == {"role": "user", "content": item["prompt"]}
        assert assistant["role"] == "assistant"
        assert assistant["content"].startswith(f"# {record['plan']['title']}\n")  # the recorded plan's
    first = meta[0]
    assert first["status"] == "accepted" and first["requested_words"] == 600
    assert [s["target_words"] for s in first["sections"]] == [600]
    assert sum(s["words"] for s in first["sections"]) <= first["words"]
    assert len(first["plan"]["sections"]) == 1 and first["model"] == "scripted"
    assert first["sampling"]["decoding"]["writer"]["temperature"] == 0.7 and first["usage"]["requests"] == 2
    assert set(first["filters"]) == {
        "min_words", "length_score", "repeated_ngrams", "repeated_sentences", "gibberish", "plan_artefacts",
        "language", "talk", "off_topic", "max_tokens", "near_duplicate",
    }  # fmt: skip
    assert all(v["passed"] for v in first["filters"].values())
    assert lines(out / REJECTS) == []
    assert stats["accepted"] == 3 and stats["acceptance_rate"] == 1.0
    assert stats["by_language"]["en"]["documents"] == 3 and stats["by_type"]["essay"]["documents"] == 3
    assert stats["usage"]["requests"] == 6 == len(model.calls)
    assert json.loads((out / "stats.json").read_text()) == stats
    assert (out / "lengths.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not (out / "runs" / "doc-00").exists()  # run folders go once committed


async def test_a_model_that_only_loops_leaves_no_loop_in_the_record(tmp_path: Path) -> None:
    """With the loop guard on, a loop never reaches a document: each section keeps its one
    sentence, and the instruction is rejected for length, not for repetition."""
    item = {"prompt": f"Write a 600-word essay on rain. {fakes.LOOP}", "id": "loop"}
    source = write_jsonl(tmp_path / "in.jsonl", [item])
    recipe = Recipe(concurrency=1)
    await abuild_dataset(source, tmp_path / "out", SETTINGS, fakes.dataset_model(), recipe=recipe)
    (reject,) = lines(tmp_path / "out" / REJECTS)
    assert reject["reason"] == "too short"
    (meta,) = lines(tmp_path / "out" / META)
    assert meta["filters"]["repeated_sentences"]["value"] == 0.0
    assert lines(tmp_path / "out" / TRAIN) == []


async def test_every_filter_and_failure_lands_in_rejects_with_its_reason(tmp_path: Path) -> None:
    items = [
        {"prompt": "Write a 600-word essay on tea.", "id": "good"},
        {"prompt": f"Write a 600-word essay on coffee. {fakes.SHORT}", "id": "short"},
        {"prompt": f"Write a 1200-word essay on rain. {fakes.LOOP}", "id": "loop"},
        {"prompt": f"Write a 600-word essay on wind. {fakes.ARTEFACT}", "id": "artefact"},
        {"prompt": f"Write a 600-word essay on rivers. {fakes.SAME}", "id": "same-1"},
        {"prompt": f"Write a 600-word essay on lakes. {fakes.SAME}", "id": "same-2"},
        {"prompt": f"Write a 600-word essay on hills. {fakes.NOPLAN}", "id": "noplan"},
        {"prompt": f"Write a 600-word essay on snow. {fakes.ERROR}", "id": "error"},
        {"prompt": "Write a 30000-word essay on sand.", "id": "long"},
    ]
    source = write_jsonl(tmp_path / "in.jsonl", items, tail='{"prompt": "cut sho')
    recipe = Recipe(concurrency=1, filters=FilterConfig(min_words=100, max_tokens=20_000))
    unguarded = SETTINGS.model_copy(
        update={"plan_attempts": 2, "loop_guard": False, "checks": False}
    )  # the filters' turn (the checks would drop "Word Count:" lines as talk)
    await abuild_dataset(source, tmp_path / "out", unguarded, fakes.dataset_model(), recipe=recipe)
    out = tmp_path / "out"
    reasons = {r["id"]: r["reason"] for r in lines(out / REJECTS)}
    assert reasons == {
        "short": "length score too low",
        "loop": "too repetitive",
        "artefact": "plan artefacts in the text",
        "same-2": "duplicate",
        "noplan": "plan failed",
        "error": "server error after retries",
        "long": "too many tokens",
        "input-line-10": "bad input line",
    }
    meta = {m["id"]: m for m in lines(out / META)}
    short = meta["short"]
    assert 300 < short["words"] < 400  # half of each budget
    assert short["filters"]["length_score"] == {
        "value": round(length_score(600, short["words"]), 2),
        "threshold": 80.0,
        "passed": False,
    }
    assert meta["artefact"]["filters"]["plan_artefacts"] == {"value": 1, "threshold": 0, "passed": False}
    assert meta["loop"]["filters"]["repeated_ngrams"]["passed"] is False
    assert meta["loop"]["filters"]["repeated_sentences"]["value"] == 1.0
    assert meta["same-2"]["near_duplicate_of"] == "same-1"
    assert meta["same-2"]["filters"]["near_duplicate"]["value"] == 1.0
    bad = lines(out / REJECTS)[0]
    assert bad["line"] == 10 and bad["detail"] == "truncated last line"
    train = lines(out / TRAIN)
    assert [t["messages"][0]["content"] for t in train] == [items[0]["prompt"], items[4]["prompt"]]
    assert not any("prompt too long" in t["messages"][1]["content"] for t in train)
    assert json.loads((out / "stats.json").read_text())["reject_reasons"]["too repetitive"] == 1


async def test_drift_and_the_wrong_language_are_rejects_that_name_their_figure(tmp_path: Path) -> None:
    items = [
        {"prompt": "写一篇600字的散文，主题是江南水乡。", "id": "chinese"},
        {"prompt": f"Write a 600-word essay on tea. {fakes.DRIFT}", "id": "drift"},
        {"prompt": f"写一篇600字的散文，主题是江南水乡。{fakes.ENGLISH}", "id": "english"},
    ]
    source = write_jsonl(tmp_path / "in.jsonl", items)
    await abuild_dataset(
        source, tmp_path / "out", SETTINGS, fakes.dataset_model(), recipe=Recipe(concurrency=1)
    )
    rejects = {r["id"]: r for r in lines(tmp_path / "out" / REJECTS)}
    assert {key: r["reason"] for key, r in rejects.items()} == {
        "drift": "off the instruction's subject",
        "english": "not in the instruction's language",
    }
    assert (
        rejects["drift"]["detail"].startswith("off_topic 0.")
        and "vs. threshold 0.5" in rejects["drift"]["detail"]
    )
    assert (
        rejects["english"]["detail"] == "language 0.0 vs. threshold 0.5 (document in en, instruction in zh)"
    )
    meta = {m["id"]: m for m in lines(tmp_path / "out" / META)}
    assert (
        meta["chinese"]["status"] == "accepted" and meta["chinese"]["language_share"] > 0.95
    )  # an English plan title
    assert (
        meta["drift"]["filters"]["off_topic"]["passed"] is False
        and meta["drift"]["topic_scorer"] == "lexical"
    )
    assert meta["english"]["filters"]["language"]["note"] == "document in en, instruction in zh"


async def test_a_lost_server_stops_the_build_without_committing_and_a_rerun_finishes(tmp_path: Path) -> None:
    items = [*instructions(2), {"prompt": f"Write a 600-word essay. {fakes.DOWN}", "id": "down"}]
    source = write_jsonl(tmp_path / "in.jsonl", items)
    with pytest.raises(ServerUnreachable):
        await abuild_dataset(source, tmp_path / "out", SETTINGS, fakes.dataset_model(),
                             recipe=Recipe(concurrency=1))  # fmt: skip
    assert "down" not in {m["id"] for m in lines(tmp_path / "out" / META)}
    write_jsonl(source, items[:2])
    await abuild_dataset(source, tmp_path / "out", SETTINGS, fakes.dataset_model())
    assert len(lines(tmp_path / "out" / TRAIN)) == 2


async def test_documents_in_flight_are_bounded_by_concurrency(tmp_path: Path) -> None:
    source = write_jsonl(tmp_path / "in.jsonl", instructions(7))
    model = fakes.dataset_model(delay=0.3)  # long against the per-document overhead, as real requests are
    await abuild_dataset(source, tmp_path / "out", SETTINGS, model, recipe=Recipe(concurrency=3))
    assert model.max_concurrency == 3  # sequential mode: one request per document at a time
    assert len(lines(tmp_path / "out" / TRAIN)) == 7


async def test_a_restart_skips_finished_ids(tmp_path: Path) -> None:
    source = write_jsonl(tmp_path / "in.jsonl", instructions(4))
    await abuild_dataset(source, tmp_path / "out", SETTINGS, fakes.dataset_model(), limit=2)
    assert len(lines(tmp_path / "out" / META)) == 2
    again = fakes.dataset_model()
    stats = await abuild_dataset(source, tmp_path / "out", SETTINGS, again)
    assert len(again.calls) == 2 * 2 and stats["accepted"] == 4
    check_consistent(tmp_path / "out", {f"doc-{i:02d}" for i in range(4)})
    assert len(json.loads((tmp_path / "out" / "build.json").read_text())["sessions"]) == 2


async def test_a_restart_removes_checkpoints_a_stop_after_commit_left(tmp_path: Path) -> None:
    """A build killed between a commit and the removal of that document's run folder
    leaves the folder; the next session removes it (and keeps it when runs are kept)."""
    source = write_jsonl(tmp_path / "in.jsonl", instructions(3))
    out = tmp_path / "out"
    await abuild_dataset(source, out, SETTINGS, fakes.dataset_model(), limit=1)
    left = out / "runs" / "doc-00"
    claim_run_dir(left)  # marked first, as every run folder is; its marker goes last
    (left / "checkpoints.sqlite").write_bytes(b"as a killed build left it")
    kept = Recipe(keep_runs=True)
    await abuild_dataset(source, out, SETTINGS, fakes.dataset_model(), recipe=kept, limit=1)
    assert sorted(p.name for p in (out / "runs").iterdir()) == ["doc-00", "doc-01"]
    await abuild_dataset(source, out, SETTINGS, fakes.dataset_model())
    check_consistent(out, {f"doc-{i:02d}" for i in range(3)})
    assert list((out / "runs").iterdir()) == []


class CancelAfter:
    """A scripted model that cancels the task using it a random moment after its n-th request."""

    def __init__(self, n: int, rng: random.Random) -> None:
        self.n, self.rng, self.armed = n, rng, False
        self.task: asyncio.Task[Any] | None = None
        self.model = ScriptedModel(responder=self.reply, delay=0.002)

    def reply(self, messages: list[Message], params: GenerationParams) -> Completion | str:
        if len(self.model.calls) >= self.n and not self.armed:
            self.armed = True
            asyncio.get_running_loop().call_later(self.rng.uniform(0.0, 0.01), self.cancel)
        return fakes.dataset_reply(messages, params)

    def cancel(self) -> None:
        # LangGraph can absorb a cancellation that lands in some of its own windows, so
        # cancel again until the task is gone, as a repeated Ctrl-C would.
        if self.task is not None and not self.task.done():
            self.task.cancel()
            asyncio.get_running_loop().call_later(0.005, self.cancel)


async def test_cancelled_at_random_moments_the_build_loses_and_doubles_nothing(tmp_path: Path) -> None:
    items = instructions(8, words=1200)
    source = write_jsonl(tmp_path / "in.jsonl", items)
    reference = fakes.dataset_model()
    await abuild_dataset(source, tmp_path / "ref", SETTINGS, reference, recipe=Recipe(concurrency=3))
    rng = random.Random(20240817)
    out, interruptions, requests = tmp_path / "out", 0, 0
    for _ in range(60):  # each round is cancelled a random moment after a random number of requests
        killer = CancelAfter(rng.randint(1, 8), rng)
        model = killer.model
        task = killer.task = asyncio.create_task(
            abuild_dataset(source, out, SETTINGS, model, recipe=Recipe(concurrency=3))
        )
        try:
            await task
            break
        except asyncio.CancelledError:
            interruptions += 1
        finally:
            requests += len(model.calls)
        recover(out)  # what a restart does first: it must always find a resumable state
    else:
        pytest.fail("the build never finished")
    assert interruptions >= 3
    meta = check_consistent(out, {i["id"] for i in items})
    ref_meta = check_consistent(tmp_path / "ref", {i["id"] for i in items})
    accepted = {k for k, m in meta.items() if m["status"] == "accepted"}
    assert accepted == {k for k, m in ref_meta.items() if m["status"] == "accepted"} == set(ref_meta)
    documents = {t["messages"][1]["content"] for t in lines(out / TRAIN)}
    assert documents == {t["messages"][1]["content"] for t in lines(tmp_path / "ref" / TRAIN)}
    # finished sections are reused: an interruption costs at most the requests then in flight
    assert requests <= len(reference.calls) + 3 * interruptions


async def test_partial_and_uncommitted_lines_are_repaired_on_restart(tmp_path: Path) -> None:
    source = write_jsonl(tmp_path / "in.jsonl", instructions(3))
    out = tmp_path / "out"
    await abuild_dataset(source, out, SETTINGS, fakes.dataset_model(), limit=2)
    train_line = (out / TRAIN).read_bytes().splitlines(keepends=True)[0]
    with (out / TRAIN).open("ab") as handle:  # killed after the train line, before its meta line
        handle.write(train_line)
    with (out / META).open("ab") as handle:  # killed in the middle of a meta line
        handle.write(b'{"id": "doc-02", "status": "acc')
    await abuild_dataset(source, out, SETTINGS, fakes.dataset_model())
    check_consistent(out, {"doc-00", "doc-01", "doc-02"})


def test_recover_refuses_outputs_no_interruption_can_explain(tmp_path: Path) -> None:
    write_jsonl(tmp_path / META, [{"id": "a", "status": "accepted"}])
    (tmp_path / TRAIN).write_text("")
    with pytest.raises(InputError, match="commits 1"):
        recover(tmp_path)
    write_jsonl(tmp_path / META, [], tail='garbage\n{"id": "a", "status": "rejected"}\n')
    with pytest.raises(InputError, match="line 1 is corrupt"):
        recover(tmp_path)


@pytest.mark.slow
def test_sigkilled_build_process_resumes_without_loss_or_doubles(tmp_path: Path) -> None:
    items = instructions(10, words=1000)
    source = write_jsonl(tmp_path / "in.jsonl", items)
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    rng = random.Random(7)
    kills = 0
    for _ in range(4):
        proc = subprocess.Popen([sys.executable, "-m", "tests.dataset_fakes", str(source), str(out), "0.05"],
                                cwd=REPO, env=env)  # fmt: skip
        deadline = time.monotonic() + 60
        committed = len(lines(out / META)) if (out / META).exists() else 0
        while proc.poll() is None and time.monotonic() < deadline:  # wait for this run's first commit
            if (out / META).exists() and (out / META).read_bytes().count(b"\n") > committed:
                break
            time.sleep(0.02)
        time.sleep(rng.uniform(0.0, 0.5))
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            kills += 1
        proc.wait(timeout=30)
    assert kills >= 1
    asyncio.run(abuild_dataset(source, out, SETTINGS, fakes.dataset_model()))
    check_consistent(out, {i["id"] for i in items})


def test_an_id_is_derived_from_the_prompt_when_missing(tmp_path: Path) -> None:
    prompt = "Write a 600-word essay on subject number 0."
    source = write_jsonl(tmp_path / "in.jsonl", [{"prompt": prompt}])
    asyncio.run(abuild_dataset(source, tmp_path / "out", SETTINGS, fakes.dataset_model()))
    assert lines(tmp_path / "out" / META)[0]["id"] == instruction_id(prompt)
