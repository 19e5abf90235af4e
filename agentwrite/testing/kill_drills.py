"""The two kill drills, as the tests and ``eval/reliability.py`` run them: ``agentwrite
write`` killed once per aim and resumed, and ``agentwrite dataset build`` killed and rerun,
each compared with a clean run of the same command (``KillDrill``)."""

from __future__ import annotations

import asyncio
import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agentwrite.files.run_folder import RUN_FILE
from agentwrite.testing.fault_drill import BRIEF, SECTION_WORDS
from agentwrite.testing.kill_chain import Aim, Chain, KillPlan, Pacer, kill_chain, zygote
from agentwrite.testing.openai_server import OpenAIServer

WORDS = 2500
SECTIONS = WORDS // SECTION_WORDS
SEQUENTIAL_AIMS: tuple[Aim, ...] = (
    "plan", "write", "write", "outputs", "plan", "write", "write", "write", "outputs", "write",
)  # fmt: skip
PARALLEL_AIMS: tuple[Aim, ...] = ("plan", "write", "outputs", "write")
INSTRUCTIONS = [
    {"id": f"tea-{i}", "prompt": f"Write a 700-word essay on tea custom {i}.", "type": "essay", "length": 700}
    for i in range(1, 7)
]


@dataclass
class KillDrill:
    """A kill chain and how its final outputs compare with a clean run's."""

    chain: Chain
    expected: dict[str, Any]
    got: dict[str, Any]
    leftovers: list[str]

    @property
    def lost(self) -> int:
        """Items (sections or documents) of the clean run that differ or are missing."""
        return sum(1 for k, v in self.expected.items() if self.got.get(k) != v) + len(self.leftovers)


def _clear(folder: Path) -> None:
    """Remove everything in ``folder`` but the logs."""
    for path in folder.iterdir():
        if not path.name.endswith(".log"):
            shutil.rmtree(path) if path.is_dir() else path.unlink()


@dataclass(frozen=True)
class DocumentProbes:
    """An ``agentwrite write`` of ``sections`` sections to ``output``, run in ``folder``."""

    folder: Path
    output: Path
    sections: int

    @property
    def run_dir(self) -> Path:
        return self.output.with_name(f"{self.output.name}.run")

    def state(self) -> dict[str, Any]:
        """The checkpointed state a killed run left in its run folder (empty if none)."""
        from agentwrite.runner import aread_run

        return asyncio.run(aread_run(self.run_dir))

    def remaining(self) -> int:
        """One plan request unless the plan is checkpointed, and one per section not yet."""
        state = self.state()
        if state.get("plan") is None:
            return 1 + self.sections
        return self.sections - len(state.get("sections", []))

    def phase(self) -> str:
        """start, plan, write, or stitch (which takes in the writing of the outputs and the
        removal of the run folder)."""
        state = self.state()
        plan = state.get("plan")
        if not state:
            return "stitch" if self.output.exists() else "start"
        if plan is None:
            return "plan"
        return "write" if len(state.get("sections", [])) < len(plan.sections) else "stitch"

    def reset(self) -> None:
        _clear(self.folder)

    def resumable(self) -> bool:
        return (self.run_dir / RUN_FILE).exists()


def _document_outputs(folder: Path) -> dict[str, Any]:
    """Each section of the written document by index: (title, its text), from whole files."""
    markdown = (folder / "doc.md").read_bytes()
    sidecar = (folder / "doc.md.json").read_bytes()
    assert markdown.endswith(b"\n") and sidecar.endswith(b"\n"), "a partial last line"
    sections = json.loads(sidecar)["sections"]
    return {str(s["index"]): (s["title"], s["text"]) for s in sections} | {"markdown": markdown}


def write_kill_drill(tmp: Path, mode: str, seed: int, aims: tuple[Aim, ...]) -> KillDrill:
    """``agentwrite write`` killed once per aim and resumed, against a clean run."""
    pacer = Pacer(delay=0.12)
    clean, work = tmp / "clean", tmp / "killed"
    clean.mkdir()
    work.mkdir()
    argv = [
        "write",
        BRIEF,
        "--words",
        str(WORDS),
        "--max-section-words",
        str(SECTION_WORDS),
        "-o",
        "doc.md",
        "--mode",
        mode,
        "--model",
        "test-model",
        "-q",
    ]
    with OpenAIServer(pacer) as server, zygote() as z:
        argv += ["--base-url", server.base_url]
        assert z.wait(z.start(argv, clean, clean / "run.log")) == 0
        plan = KillPlan(tuple(argv), work, aims, seed, resume_flag="--resume", output=work / "doc.md")
        chain = kill_chain(z, pacer, plan, DocumentProbes(work, work / "doc.md", SECTIONS))
    expected = _document_outputs(clean)
    got = _document_outputs(work) if chain.final_code == 0 else {}
    leftovers = sorted(p.name for p in work.iterdir() if p.name not in ("doc.md", "doc.md.json"))
    return KillDrill(chain, expected, got, [n for n in leftovers if not n.endswith(".log")])


@dataclass(frozen=True)
class BuildProbes:
    """An ``agentwrite dataset build`` of ``documents`` documents into ``build``; two model
    requests a document, and a rerun continues from the committed lines by itself."""

    build: Path
    documents: int

    def committed(self) -> int:
        meta = self.build / "meta.jsonl"
        return len(read_lines(meta)) if meta.exists() else 0

    def remaining(self) -> int:
        return 2 * (self.documents - self.committed())

    def phase(self) -> str:
        return f"build ({self.committed()} committed)"

    def reset(self) -> None:
        shutil.rmtree(self.build, ignore_errors=True)

    def resumable(self) -> bool:
        return True


def _build_outputs(build: Path) -> dict[str, Any]:
    """Each instruction id: (status, section count, its training example), from whole lines."""
    meta = read_lines(build / "meta.jsonl")
    train = iter(read_lines(build / "train.jsonl"))
    read_lines(build / "rejects.jsonl")
    return {
        m["id"]: (m["status"], len(m.get("sections", [])), next(train) if m["status"] == "accepted" else None)
        for m in meta
    }


def dataset_kill_drill(tmp: Path, seed: int, kills: int) -> KillDrill:
    """``agentwrite dataset build`` killed ``kills`` times and rerun, against a clean build."""
    pacer = Pacer(delay=0.08)
    clean, work = tmp / "clean", tmp / "killed"
    lines = "".join(json.dumps(i) + "\n" for i in INSTRUCTIONS)
    for folder in (clean, work):
        folder.mkdir()
        (folder / "instructions.jsonl").write_text(lines, "utf-8")
    argv = [
        "dataset",
        "build",
        "instructions.jsonl",
        "-o",
        "build",
        "--concurrency",
        "2",
        "--model",
        "test-model",
    ]
    with OpenAIServer(pacer) as server, zygote() as z:
        argv += ["--base-url", server.base_url, "-q"]
        assert z.wait(z.start(argv, clean, clean / "run.log")) == 0
        anywhere: Aim = "request"
        plan = KillPlan(tuple(argv), work, (anywhere,) * kills, seed)
        chain = kill_chain(z, pacer, plan, BuildProbes(work / "build", len(INSTRUCTIONS)))
    expected = _build_outputs(clean / "build")
    got = _build_outputs(work / "build") if chain.final_code == 0 else {}
    return KillDrill(chain, expected, got, [])


def read_lines(path: Path) -> list[dict[str, Any]]:
    """Records of a JSONL file; AssertionError for a partial or bad line."""
    data = path.read_bytes() if path.exists() else b""
    assert not data or data.endswith(b"\n"), f"{path} ends in a partial line"
    return [json.loads(line) for line in data.splitlines()]
