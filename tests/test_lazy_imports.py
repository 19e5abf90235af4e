"""Commands import what they use: those that run no workflow never import LangGraph (about a
second of start-up on this machine). One fresh interpreter runs them all in turn, checking
``sys.modules`` after each, so that this costs one start-up, not one per command."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from agentwrite.dataset import stats as stats_module
from tests.test_dataset_shards import build, essays, source

REPO = Path(__file__).resolve().parent.parent
SCORED_RUN = REPO / "eval" / "results" / "length_cpu" / "direct"

# Runs in the child: each command through the real Typer app, in process; after each, the
# first command that left LangGraph in sys.modules is named, with the import's stack.
CHILD = r"""
import importlib.abc, json, sys, traceback

class Witness(importlib.abc.MetaPathFinder):
    stack = None
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "langgraph" and Witness.stack is None:
            Witness.stack = "".join(traceback.format_stack(limit=25))
        return None  # the import goes on as usual: this only watches

sys.meta_path.insert(0, Witness())
import agentwrite.dataset.stats, agentwrite.evaluation.report
from agentwrite.cli import app

# the plots are matplotlib's work, about a second here, and not what this watches
PLOTS = [(agentwrite.dataset.stats, "plot_lengths")]
PLOTS += [(agentwrite.evaluation.report, f"_plot_{kind}") for kind in ("length", "bars", "positions")]
for module, name in PLOTS:
    assert callable(getattr(module, name)), name
    setattr(module, name, lambda *args: None)

for argv in json.loads(sys.argv[1]):
    try:
        app(argv, prog_name="agentwrite")
    except SystemExit as done:
        if done.code not in (0, None, 2) or (done.code == 2 and argv[0] != "serve"):
            sys.exit(f"{argv}: exit code {done.code}")
    if "langgraph" in sys.modules:
        sys.exit(f"{argv} imported langgraph:\n{Witness.stack}")
print("ok")
"""


def test_commands_that_run_no_workflow_do_not_import_langgraph(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(stats_module, "plot_lengths", lambda records, path: None)
    built = tmp_path / "build"
    build(source(tmp_path, essays(1)), built)
    run = tmp_path / "run"  # an eval run of two answers, to score and report
    run.mkdir()
    shutil.copy(SCORED_RUN / "run.json", run / "run.json")
    answers = (SCORED_RUN / "predictions.jsonl").read_text("utf-8").splitlines(keepends=True)
    (run / "predictions.jsonl").write_text("".join(answers[:2]), "utf-8")
    commands = [
        ["--help"],
        ["write", "--help"],
        ["serve", str(tmp_path / "no-such-model")],  # refused (exit 2) after the command's imports
        ["dataset", "stats", str(built)],
        ["dataset", "export", str(built), "--format", "sharegpt", "--out", str(tmp_path / "train.jsonl")],
        ["dataset", "merge", str(built), "--out", str(tmp_path / "merged")],
        ["eval", "score", str(run), "--no-embeddings"],
        ["eval", "report", str(run), "--out", str(tmp_path / "report")],
    ]
    child = subprocess.run(
        [sys.executable, "-c", CHILD, json.dumps(commands)], capture_output=True, text=True, cwd=tmp_path
    )
    assert child.returncode == 0 and child.stdout.strip().endswith("ok"), child.stderr[-3000:]
    assert (tmp_path / "merged" / "train.jsonl").exists() and (run / "scores.json").exists()


def test_the_settings_and_the_error_base_come_from_the_package_without_langgraph(tmp_path: Path) -> None:
    """What the README's examples import from ``agentwrite`` itself, before any workflow runs."""
    code = (
        "import sys; from agentwrite import AgentwriteError, Settings, load_settings; "
        "from agentwrite.errors import InputError; "
        "assert issubclass(InputError, AgentwriteError) and load_settings().mode == Settings().mode; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'langgraph'))"
    )
    child = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path)
    assert child.returncode == 0 and child.stdout.strip() == "[]", child.stderr[-3000:]
