"""Plan review: the graph stops after the plan with an interrupt, and continues from its
checkpoint with ``Command(resume=...)``: accept, edit, or a new plan with a comment; and
``agentwrite write --review`` at a terminal, with a scripted editor."""

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.types import Command
from typer.testing import CliRunner

from agentwrite import WriteContext, build_graph
from agentwrite.cli import app
from agentwrite.domain import Brief
from agentwrite.settings import Settings
from agentwrite.testing.fake_writer import writer_handler
from agentwrite.testing.openai_server import OpenAIServer
from tests.scripted import writer_model

ROOT = Path(__file__).resolve().parents[1]
BRIEF = Brief(instruction="Write a 1500-word essay on tea", target_words=1500)
TWO_SECTIONS = {
    "title": "Tea, Briefly",
    "sections": [
        {"title": "Leaves", "main_point": "How tea is grown and picked.", "target_words": 300},
        {"title": "Cups", "main_point": "How tea is brewed and drunk.", "target_words": 200},
    ],
}


class Session:
    """One run of the review graph on a checkpointer, driven step by step."""

    def __init__(self, mode: str = "sequential") -> None:
        self.model = writer_model()
        self.ctx = WriteContext(model=self.model, settings=Settings(mode=mode))
        self.graph = build_graph(mode, InMemorySaver(), review=True)  # type: ignore[arg-type]
        self.config: Any = {"configurable": {"thread_id": "t"}}

    def step(self, todo: Any) -> tuple[dict[str, Any] | None, dict[str, Any]]:
        """Run until the next interrupt or the end: (the interrupt's value or None, the state)."""

        async def go() -> tuple[dict[str, Any] | None, dict[str, Any]]:
            asked, state = None, {}
            async for part in self.graph.astream(
                todo, self.config, context=self.ctx, stream_mode="values", version="v2"
            ):
                state = part["data"]
                asked = part["interrupts"][0].value if part["interrupts"] else None
            return asked, state

        return asyncio.run(go())


def test_the_run_stops_after_the_plan_and_an_accepted_plan_is_written() -> None:
    run = Session()
    asked, state = run.step({"brief": BRIEF})
    assert asked is not None and asked["kind"] == "plan_review" and asked["error"] == ""
    assert asked["target_words"] == 1500 and asked["plan"] == state["plan"].model_dump(mode="json")
    assert not state.get("sections") and len(run.model.calls) == 1  # only the planner so far
    asked, state = run.step(Command(resume={"action": "accept"}))
    assert asked is None and state["markdown"].startswith(f"# {state['plan'].title}")
    assert [s.title for s in state["sections"]] == [s.title for s in state["plan"].sections]


@pytest.mark.parametrize("as_text", [False, True])
def test_an_edited_plan_is_written_with_its_budgets_scaled_to_the_target(as_text: bool) -> None:
    run = Session("parallel")
    run.step({"brief": BRIEF})
    edit = json.dumps(TWO_SECTIONS) if as_text else TWO_SECTIONS
    asked, state = run.step(Command(resume={"action": "edit", "plan": edit}))
    assert asked is None
    assert state["plan"].title == "Tea, Briefly" and state["plan_source"] == "user"
    assert [(s.title, s.target_words) for s in state["sections"]] == [("Leaves", 900), ("Cups", 600)]


def test_a_new_plan_is_asked_for_with_the_comment_and_shown_again() -> None:
    run = Session()
    first, _ = run.step({"brief": BRIEF})
    asked, state = run.step(Command(resume={"action": "replan", "comment": "Say more about Yunnan."}))
    assert asked is not None and asked["kind"] == "plan_review" and asked["error"] == ""
    replan = run.model.calls[-1].messages
    assert replan[-1]["role"] == "user" and "Say more about Yunnan." in replan[-1]["content"]
    assert replan[-2]["role"] == "assistant" and first is not None
    assert first["plan"]["sections"][0]["main_point"] in replan[-2]["content"]  # the plan it replaces
    assert state["plan_usage"].requests == 2
    asked, state = run.step(Command(resume={"action": "accept"}))
    assert asked is None and "markdown" in state


@pytest.mark.parametrize(
    ("answer", "error"),
    [
        ({"action": "edit", "plan": "{not json"}, "not valid JSON"),
        ({"action": "edit", "plan": {"title": "T", "sections": []}}, "plan file (edited)"),
        ({"action": "replan", "comment": "  "}, "needs a comment"),
        ({"action": "publish"}, "accept, edit or replan"),
        ("yes", "accept, edit or replan"),
    ],
)
def test_an_answer_that_cannot_be_used_is_asked_again_with_the_reason(answer: Any, error: str) -> None:
    run = Session()
    run.step({"brief": BRIEF})
    asked, _ = run.step(Command(resume=answer))
    assert asked is not None and error in asked["error"]
    asked, state = run.step(Command(resume={"action": "accept"}))
    assert asked is None and "markdown" in state


def test_review_is_off_unless_asked() -> None:
    assert "review" not in build_graph("sequential").nodes
    assert "review" in build_graph("sketch", review=True).nodes


# --- the command line ---------------------------------------------------------------------

EDITOR = """
import json, pathlib, sys
count, path = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])  # EDITOR's own argument, then the file
n = int(count.read_text()) if count.exists() else 0
count.write_text(str(n + 1))
if n == 0:
    path.write_text("{broken")  # a bad edit first: reported, then offered again
else:
    assert path.read_text() == "{broken", "the bad edit is opened again"
    path.write_text(json.dumps(%s))
"""


def run_cli(*args: str, answers: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "agentwrite.cli", *args],
        input=answers, capture_output=True, text=True, timeout=120, cwd=ROOT,
        env={k: v for k, v in os.environ.items() if not k.startswith(("AGENTWRITE_", "VISUAL"))} | env,
    )  # fmt: skip


def test_write_review_with_a_new_plan_and_an_edit_in_the_editor(tmp_path: Path) -> None:
    editor = tmp_path / "editor.py"
    editor.write_text(EDITOR % json.dumps(TWO_SECTIONS))
    count = tmp_path / "edits"
    out = tmp_path / "tea.md"
    with OpenAIServer() as server:
        result = run_cli(
            "write", "Write a 1500-word essay on tea", "--review", "-q", "-o", str(out),
            "--base-url", server.base_url,
            answers="x\nn\nMake it two sections.\ne\ne\n",
            env={"EDITOR": f"{sys.executable} {editor} {count}"},
        )  # fmt: skip
        prompts = [r.body for r in server.completion_requests()]
    assert result.returncode == 0, result.stderr
    planned = json.loads(writer_handler(prompts[0]).text or "")["title"]
    # the first plan, the new one (the fake plans alike), the new one again after the bad edit
    assert result.stderr.count(f"Plan: {planned}") == 3
    assert "Answer a, e or n." in result.stderr
    assert "That answer could not be used: plan file (edited) is not valid JSON" in result.stderr
    assert count.read_text() == "2"
    replan = prompts[1]["messages"]
    assert replan[-1]["role"] == "user" and "Make it two sections." in replan[-1]["content"]
    sidecar = json.loads(Path(str(out) + ".json").read_text())
    assert sidecar["plan"]["title"] == "Tea, Briefly" and sidecar["plan_source"] == "user"
    assert [(s["title"], s["target_words"]) for s in sidecar["plan"]["sections"]] == [
        ("Leaves", 900),
        ("Cups", 600),
    ]
    assert [s["title"] for s in sidecar["sections"]] == ["Leaves", "Cups"]
    assert out.read_text().startswith("# Tea, Briefly")


def test_a_review_left_unanswered_is_continued_with_resume(tmp_path: Path) -> None:
    out = tmp_path / "tea.md"
    args = ("write", "Write a 1500-word essay on tea", "--review", "-q", "-o", str(out))
    with OpenAIServer() as server:
        stopped = run_cli(*args, "--base-url", server.base_url, answers="", env={})
        assert stopped.returncode == 1
        assert "no answer" in stopped.stderr and "--resume" in stopped.stderr
        assert (tmp_path / "tea.md.run").is_dir() and not out.exists()
        without = run_cli(*args[:2], "-q", "-o", str(out), "--resume", "--base-url", server.base_url,
                          answers="", env={})  # fmt: skip
        assert without.returncode == 2 and "continue it with --review" in without.stderr
        planned = len(server.completion_requests())
        resumed = run_cli(*args, "--resume", "--base-url", server.base_url, answers="a\n", env={})
        assert resumed.returncode == 0, resumed.stderr
        sidecar = json.loads(Path(str(out) + ".json").read_text())
        # the plan was not asked again
        assert planned == 1 and f"Plan: {sidecar['plan']['title']}" in resumed.stderr
        assert len(server.completion_requests()) == 1 + len(sidecar["sections"])


def test_review_refuses_a_brief_on_standard_input(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["write", "-", "--review", "-o", str(tmp_path / "d.md")], input="Essay")
    assert result.exit_code == 2 and "--review reads answers from standard input" in result.stderr
