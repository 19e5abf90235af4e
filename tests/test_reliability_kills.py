"""Drill 2: SIGKILL at seeded points, then restart; the result equals a clean run's."""

import json
import random
import shutil
from pathlib import Path

import pytest

from tests.drills import (
    BRIEF,
    Pacer,
    document_phase,
    document_remaining,
    kill_chain,
    read_lines,
    zygote,
)
from tests.openai_server import OpenAIServer

pytestmark = pytest.mark.slow

WORDS = 2500  # five sections from the writer server
SECTIONS = 5


def write_argv(base_url: str, mode: str) -> list[str]:
    return [
        "write", BRIEF, "--words", str(WORDS), "-o", "doc.md", "--mode", mode,
        "--base-url", base_url, "--model", "test-model", "-q",
    ]  # fmt: skip


def clear(folder: Path) -> None:
    for path in folder.iterdir():
        if not path.name.endswith(".log"):
            shutil.rmtree(path) if path.is_dir() else path.unlink()


SEQUENTIAL_AIMS = ["plan", "write", "write", "outputs", "plan", "write", "write", "write", "outputs", "write"]
PARALLEL_AIMS = ["plan", "write", "outputs", "write"]


@pytest.mark.parametrize(
    ("mode", "seed", "aims"), [("sequential", 2024, SEQUENTIAL_AIMS), ("parallel", 7, PARALLEL_AIMS)]
)
def test_write_killed_and_resumed_equals_a_clean_run(
    tmp_path: Path, mode: str, seed: int, aims: list[str]
) -> None:
    pacer = Pacer(delay=0.12)
    clean, work = tmp_path / "clean", tmp_path / "killed"
    clean.mkdir()
    work.mkdir()
    with OpenAIServer(pacer) as server, zygote() as z:
        argv = write_argv(server.base_url, mode)
        assert z.wait(z.start(argv, clean, clean / "run.log")) == 0
        run_dir = work / "doc.md.run"
        chain = kill_chain(
            z, pacer, argv, work, random.Random(seed), aims,
            remaining=lambda: document_remaining(run_dir, mode, SECTIONS),
            phase_of=lambda: document_phase(run_dir, work / "doc.md", mode),
            reset=lambda: clear(work),
            resume_flag="--resume",
            resumable=lambda: (run_dir / "run.json").exists(),
            output=work / "doc.md",
        )  # fmt: skip

    assert chain.final_code == 0, chain.log
    assert chain.failed_codes == []
    assert len(chain.kills) == len(aims)
    assert [k.phase for k in chain.kills] == [a.replace("outputs", "stitch") for a in aims], chain.kills
    # same document, same sections, whole files, nothing left behind
    assert (work / "doc.md").read_text("utf-8") == (clean / "doc.md").read_text("utf-8")
    sidecar, reference = (json.loads((d / "doc.md.json").read_text("utf-8")) for d in (work, clean))
    assert [(s["index"], s["title"]) for s in sidecar["sections"]] == [
        (s["index"], s["title"]) for s in reference["sections"]
    ]
    assert len(sidecar["sections"]) == SECTIONS
    assert (work / "doc.md").read_bytes().endswith(b"\n")
    assert (work / "doc.md.json").read_bytes().endswith(b"\n")
    assert sorted(p.name for p in work.iterdir() if not p.name.endswith(".log")) == ["doc.md", "doc.md.json"]


INSTRUCTIONS = [
    {
        "id": f"tea-{i}",
        "prompt": f"Write a 700-word essay on tea custom number {i}.",
        "type": "essay",
        "length": 700,
    }
    for i in range(1, 7)
]


def build_argv(base_url: str) -> list[str]:
    return [
        "dataset", "build", "instructions.jsonl", "-o", "build", "--concurrency", "2",
        "--base-url", base_url, "--model", "test-model", "-q",
    ]  # fmt: skip


def committed(build: Path) -> int:
    return len(read_lines(build / "meta.jsonl")) if (build / "meta.jsonl").exists() else 0


def test_dataset_build_killed_and_restarted_equals_a_clean_build(tmp_path: Path) -> None:
    pacer = Pacer(delay=0.08)
    clean, work = tmp_path / "clean", tmp_path / "killed"
    lines = "".join(json.dumps(i) + "\n" for i in INSTRUCTIONS)
    for folder in (clean, work):
        folder.mkdir()
        (folder / "instructions.jsonl").write_text(lines, "utf-8")
    with OpenAIServer(pacer) as server, zygote() as z:
        argv = build_argv(server.base_url)
        assert z.wait(z.start(argv, clean, clean / "run.log")) == 0
        chain = kill_chain(
            z, pacer, argv, work, random.Random(99), ["request"] * 8,
            remaining=lambda: 2 * (len(INSTRUCTIONS) - committed(work / "build")),
            phase_of=lambda: f"build ({committed(work / 'build')} committed)",
            reset=lambda: shutil.rmtree(work / "build", ignore_errors=True),
        )  # fmt: skip

    assert chain.final_code == 0, chain.log
    assert chain.failed_codes == []
    assert len(chain.kills) == 8
    outputs = {}
    for folder in (clean, work):
        meta = read_lines(folder / "build" / "meta.jsonl")
        train = read_lines(folder / "build" / "train.jsonl")
        rejects = read_lines(folder / "build" / "rejects.jsonl")
        assert len(meta) == len(INSTRUCTIONS) == len(train) + len(rejects)
        outputs[folder.name] = (
            {m["id"]: (m["status"], len(m.get("sections", []))) for m in meta},
            sorted(json.dumps(t, sort_keys=True) for t in train),
        )
    assert outputs["killed"] == outputs["clean"]
    assert {i["id"] for i in INSTRUCTIONS} == set(outputs["clean"][0])
