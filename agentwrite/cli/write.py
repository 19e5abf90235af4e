"""``agentwrite write`` and ``agentwrite plan``: one brief to a document (with its JSON sidecar),
or to the plan it would be written from."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Annotated

import typer

from agentwrite.cli.options import ConfigFile, Serve, ServeModel, SettingsFlags, with_setting_flags
from agentwrite.cli.progress import DocumentProgress
from agentwrite.cli.review import TerminalReview
from agentwrite.cli.support import Debug, handled, served, settings_from
from agentwrite.errors import AgentwriteError, InputError, ModelError, PlanError, ReviewStopped
from agentwrite.files import MAX_TEXT_FILE_BYTES, read_text_file, write_json, write_text
from agentwrite.files.output_paths import document_outputs
from agentwrite.files.run_folder import RUN_FILE, clear_run_dir
from agentwrite.length import resolve_target

Words = Annotated[
    int | None,
    typer.Option("--words", "-w", help="Word target (default: the brief's, else 10000; ceiling 100000)."),
]
Sources = Annotated[
    list[Path] | None,
    typer.Option(
        "--source",
        metavar="FILE",
        help="Your own material to write from (text, Markdown, or PDF with the 'sources' extra); repeatable.",
    ),
]


def read_brief(brief: str) -> str:
    """The brief itself, ``-`` for standard input, or ``@FILE`` for a file's text."""
    if brief == "-":
        text = sys.stdin.read(MAX_TEXT_FILE_BYTES + 1)
        if len(text) > MAX_TEXT_FILE_BYTES:
            raise InputError(f"the brief on standard input is longer than {MAX_TEXT_FILE_BYTES:,} characters")
        return text
    if brief.startswith("@"):
        return read_text_file(Path(brief[1:]), "brief file")
    return brief


def default_output(brief: str) -> Path:
    """``<first words of the brief>.md`` in the current folder."""
    words = "".join(c if c.isalnum() else " " for c in brief).split()[:6]
    return Path(("-".join(words).lower() or "document")[:60] + ".md")


@with_setting_flags()
def write(
    brief: Annotated[
        str, typer.Argument(help="The writing instruction; '-' reads standard input, '@FILE' a file.")
    ],
    words: Words = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Markdown file to write.")] = None,
    json_path: Annotated[
        Path | None, typer.Option("--json", help="JSON sidecar (default: the output path + .json).")
    ] = None,
    plan_file: Annotated[
        Path | None, typer.Option("--plan", help="Use this plan (JSON) instead of planning.")
    ] = None,
    source: Sources = None,
    run_dir: Annotated[
        Path | None, typer.Option(help="Checkpoint folder (default: the output path + .run).")
    ] = None,
    resume: Annotated[bool, typer.Option("--resume", help="Continue the run in the run folder.")] = False,
    keep_run_dir: Annotated[bool, typer.Option(help="Keep the run folder after success.")] = False,
    review: Annotated[
        bool,
        typer.Option(
            "--review",
            help="Stop after the plan: accept it, edit it in $EDITOR, or ask for a new one with a comment "
            "(answers on standard input).",
        ),
    ] = False,
    serve: Serve = False,
    serve_model: ServeModel = None,
    config: ConfigFile = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
    debug: Debug = False,
    *,
    settings_flags: SettingsFlags,
) -> None:
    """Plan and write one long document, with a JSON sidecar of everything it took.

    Every setting is a flag (the Settings section below); the API key comes only from the
    environment or the config file."""
    from agentwrite.llm.factory import check_backend
    from agentwrite.material.read import load_material
    from agentwrite.plans import load_plan_file
    from agentwrite.runner import awrite, make_brief

    with handled(debug):
        settings = settings_from(config, **settings_flags)
        serve = serve or serve_model is not None
        if not serve:
            check_backend(settings)  # a missing 'local' extra is said before any work
        if review and brief == "-":
            raise InputError("--review reads answers from standard input: give the brief as text or @FILE")
        text = read_brief(brief)
        plan = None
        if plan_file is not None:
            plan = load_plan_file(read_text_file(plan_file, "plan file"), str(plan_file))
        chunks = load_material(source or [])  # a bad file is said before any work
        target = (
            plan.total_words
            if plan is not None and words is None
            else resolve_target(text, words, settings.max_words)
        )
        make_brief(text, target)  # refuse a bad brief before anything starts
        out = output or default_output(text)
        sidecar = json_path or out.with_name(out.name + ".json")
        folder = run_dir or out.with_name(out.name + ".run")
        out_file, sidecar_file = document_outputs(out, sidecar, folder)  # links written through
        if resume and not (folder / RUN_FILE).exists():
            typer.echo(f"nothing to resume in {folder}: starting a new run", err=True)

        try:
            with (
                served(serve, settings, serve_model) as settings,
                DocumentProgress(target, enabled=not quiet) as progress,
            ):
                document = asyncio.run(
                    awrite(
                        text, settings=settings, words=words, plan=plan, run_dir=folder, resume=resume,
                        on_event=progress.on_event, sources=chunks,
                        review=TerminalReview(progress.paused) if review else None,
                    )
                )  # fmt: skip
        except (ModelError, PlanError, ReviewStopped) as exc:
            raise AgentwriteError(f"{exc} (progress is kept in {folder}: continue with --resume)") from None
        write_text(out_file, document.markdown)
        write_json(sidecar_file, document.sidecar())
        if not keep_run_dir:
            clear_run_dir(folder)
        typer.echo(
            f"wrote {out} ({document.words:,} words, {len(document.sections)} sections, "
            f"{document.usage.completion_tokens:,} tokens, {document.wall_seconds:.1f} s); sidecar {sidecar}",
            err=True,
        )


@with_setting_flags()
def plan(
    brief: Annotated[
        str, typer.Argument(help="The writing instruction; '-' reads standard input, '@FILE' a file.")
    ],
    words: Words = None,
    source: Sources = None,
    config: ConfigFile = None,
    debug: Debug = False,
    *,
    settings_flags: SettingsFlags,
) -> None:
    """Print the plan for a brief as JSON (usable with write --plan, with the same --source files)."""
    from agentwrite.material.read import load_material
    from agentwrite.runner import aplan

    with handled(debug):
        settings = settings_from(config, **settings_flags)
        text = read_brief(brief)
        chunks = load_material(source or [])
        the_plan = asyncio.run(aplan(text, settings=settings, words=words, sources=chunks))
        typer.echo(the_plan.model_dump_json(indent=2))
