"""The ``agentwrite`` command: its commands and groups, and the console entry point.

Exit codes: 0 success, 2 bad input, 1 runtime failure (each with a one-line message;
``--debug`` adds the traceback), 130 interrupted.
"""

from __future__ import annotations

import typer

from agentwrite.cli.dataset import app as dataset_app
from agentwrite.cli.eval import app as eval_app
from agentwrite.cli.serve import CONTEXT_SETTINGS, serve
from agentwrite.cli.support import OneLineUsage
from agentwrite.cli.train import app as train_app
from agentwrite.cli.write import plan, write

app = typer.Typer(
    cls=OneLineUsage,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    help="Plan-then-write long documents with language models (AgentWrite on LangGraph).",
)
app.command()(write)
app.command()(plan)
app.command(context_settings=CONTEXT_SETTINGS)(serve)
app.add_typer(dataset_app, name="dataset")
app.add_typer(eval_app, name="eval")
app.add_typer(train_app, name="train")


def main() -> None:
    """Console entry point."""
    app()
