"""The command line: parse, build settings, call one library function, show progress.

Exit codes: 0 success, 2 bad input, 1 runtime failure (each with a one-line message;
``--debug`` adds the traceback), 130 interrupted.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from agentwrite.bundled import BUNDLED_MODEL_NAME
from agentwrite.cli_options import (
    ConfigFile,
    Serve,
    ServeModel,
    SettingsFlags,
    with_setting_flags,
)
from agentwrite.cli_review import TerminalReview
from agentwrite.cli_support import Debug, OneLineUsage, handled, run, served, settings_from
from agentwrite.dataset.cli import app as dataset_app
from agentwrite.errors import AgentwriteError, InputError, ModelError, PlanError, ReviewStopped
from agentwrite.evaluation.cli import app as eval_app
from agentwrite.files import MAX_TEXT_FILE_BYTES, read_text_file, write_json, write_text
from agentwrite.length import resolve_target
from agentwrite.output_paths import document_outputs
from agentwrite.progress import RunProgress
from agentwrite.run_folder import RUN_FILE, clear_run_dir
from agentwrite.serve import DEFAULT_PORT
from agentwrite.train.cli import app as train_app

app = typer.Typer(
    cls=OneLineUsage,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    help="Plan-then-write long documents with language models (AgentWrite on LangGraph).",
)

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


@app.command()
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
    from agentwrite.plans import load_plan_file
    from agentwrite.runner import awrite, make_brief
    from agentwrite.sources import load_sources

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
        chunks = load_sources(source or [])  # a bad file is said before any work
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
                RunProgress(target, enabled=not quiet) as progress,
            ):
                document = run(
                    lambda: awrite(
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


@app.command()
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
    from agentwrite.runner import aplan
    from agentwrite.sources import load_sources

    with handled(debug):
        settings = settings_from(config, **settings_flags)
        text = read_brief(brief)
        chunks = load_sources(source or [])
        the_plan = run(lambda: aplan(text, settings=settings, words=words, sources=chunks))
        typer.echo(the_plan.model_dump_json(indent=2))


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def serve(
    ctx: typer.Context,
    model: Annotated[
        str | None,
        typer.Argument(
            help=f"The bundled model ({BUNDLED_MODEL_NAME} or 'bundled', the default) or a local Hugging "
            "Face model folder; nothing is downloaded."
        ),
    ] = None,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[
        int, typer.Option(min=0, max=65535, help="Port, as vllm serve's; 0 picks a free one.")
    ] = DEFAULT_PORT,
    max_model_len: Annotated[int, typer.Option(help="Context window in tokens.")] = 8192,
    startup_timeout: Annotated[float, typer.Option(help="Seconds to wait for the server to answer.")] = 600.0,
    debug: Debug = False,
) -> None:
    """Start a vLLM OpenAI-compatible server, print its base URL, and run until Ctrl-C.

    Flags after -- go to vLLM as they are: agentwrite serve MODEL -- --dtype bfloat16 --enforce-eager"""
    import signal

    from agentwrite.serve import resolve_model, start_server

    extra = list(ctx.args)
    if model is not None and model.startswith("-"):  # 'serve -- --flag': no model, the flag is vLLM's
        extra.insert(0, model)
        model = None

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    # SIGTERM stops the server the way Ctrl-C does, instead of leaving it behind.
    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        with handled(debug):
            resolve_model(model)  # a folder that holds no model fails here, in one line
            typer.echo("starting vLLM (a few minutes on CPU)...", err=True)
            server = start_server(
                model, host=host, port=port, max_model_len=max_model_len, startup_timeout=startup_timeout,
                extra_args=extra,
            )  # fmt: skip
            with server:
                typer.echo(server.base_url)
                typer.echo(f"model {server.model_name}, log {server.log_path}; Ctrl-C stops it", err=True)
                try:
                    code = server.wait()
                except KeyboardInterrupt:
                    typer.echo("stopping the server...", err=True)
                    return
            raise AgentwriteError(f"the vLLM server exited with code {code}; log: {server.log_path}")
    finally:
        signal.signal(signal.SIGTERM, previous)


app.add_typer(dataset_app, name="dataset")
app.add_typer(eval_app, name="eval")
app.add_typer(train_app, name="train")


def main() -> None:
    """Console entry point."""
    app()


if __name__ == "__main__":
    main()
