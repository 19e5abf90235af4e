"""The command line: parse, build settings, call one library function, show progress.

Exit codes: 0 success, 2 bad input, 1 runtime failure (each with a one-line message;
``--debug`` adds the traceback), 130 interrupted.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import shutil
import sys
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from agentwrite.cli_options import BaseUrls, DecodingFlags, Temperature
from agentwrite.decoding import decoding_overrides
from agentwrite.domain import WriteMode
from agentwrite.errors import AgentwriteError, InputError, ModelError, PlanError
from agentwrite.length import resolve_target
from agentwrite.plans import load_plan_file
from agentwrite.progress import RunProgress
from agentwrite.settings import Settings, load_settings

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    help="Plan-then-write long documents with language models (AgentWrite on LangGraph).",
)
T = TypeVar("T")

ModelName = Annotated[
    str | None,
    typer.Option(help="Model name on the server (default: its first model) [env: AGENTWRITE_MODEL]."),
]
ConfigFile = Annotated[
    Path | None, typer.Option("--config", help="Settings file (YAML or TOML); flags and environment win.")
]
Debug = Annotated[bool, typer.Option("--debug", help="Show tracebacks and debug logs.")]
Words = Annotated[
    int | None,
    typer.Option("--words", "-w", help="Word target (default: the brief's, else 10000; ceiling 100000)."),
]


def fail(message: str, code: int) -> typer.Exit:
    """Print a one-line error and return the Exit to raise."""
    typer.echo(f"agentwrite: error: {message}", err=True)
    return typer.Exit(code)


@contextmanager
def handled(debug: bool) -> Iterator[None]:
    """Turn exceptions into one-line messages and exit codes."""
    logging.basicConfig(
        level=logging.DEBUG if debug else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )
    try:
        yield
    except AgentwriteError as exc:
        if debug:
            traceback.print_exc()
        raise fail(str(exc).splitlines()[0], exc.exit_code) from None
    except KeyboardInterrupt:
        raise fail("interrupted", 130) from None
    except (typer.Exit, typer.Abort):
        raise
    except Exception as exc:
        if debug:
            traceback.print_exc()
        raise fail(
            f"unexpected {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}", 1
        ) from None


def run(coro_fn: Callable[[], Any]) -> Any:
    return asyncio.run(coro_fn())


def settings_from(config: Path | None, **flags: Any) -> Settings:
    """Defaults < config file < environment < these flags (None means not given);
    ``decoding`` takes the ``--decoding ROLE.FIELD=VALUE`` flags as given."""
    if flags.get("decoding"):
        flags["decoding"] = decoding_overrides(flags["decoding"])
    return load_settings(config=config, overrides=flags)


def read_brief(brief: str) -> str:
    """The brief itself, ``-`` for standard input, or ``@FILE`` for a file's text."""
    if brief == "-":
        return sys.stdin.read()
    if brief.startswith("@"):
        path = Path(brief[1:])
        try:
            return path.read_bytes().decode("utf-8")
        except OSError as exc:
            raise InputError(f"cannot read brief file {path}: {exc.strerror}") from None
        except UnicodeDecodeError:
            raise InputError(f"brief file {path} is not valid UTF-8") from None
    return brief


def check_writable(path: Path) -> None:
    """Fail before any model call when ``path`` cannot be written."""
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise InputError(f"output folder {folder} does not exist")
    if path.is_dir():
        raise InputError(f"output path {path} is a folder")
    if not os.access(folder, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise InputError(f"cannot write to {path}: permission denied")


def write_atomically(path: Path, text: str) -> None:
    """Write a whole file or nothing: a temporary file, then a rename."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, "utf-8")
    tmp.replace(path)


def default_output(brief: str) -> Path:
    """``<first words of the brief>.md`` in the current folder."""
    words = "".join(c if c.isalnum() else " " for c in brief).split()[:6]
    return Path(("-".join(words).lower() or "document")[:60] + ".md")


@app.command()
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
    mode: Annotated[WriteMode | None, typer.Option(help="sequential, parallel or sketch.")] = None,
    run_dir: Annotated[
        Path | None, typer.Option(help="Checkpoint folder (default: the output path + .run).")
    ] = None,
    resume: Annotated[bool, typer.Option("--resume", help="Continue the run in the run folder.")] = False,
    keep_run_dir: Annotated[bool, typer.Option(help="Keep the run folder after success.")] = False,
    base_url: BaseUrls = None,
    model: ModelName = None,
    serve: Annotated[
        bool, typer.Option("--serve", help="Start a vLLM server for the bundled model for this run.")
    ] = False,
    max_inflight: Annotated[int | None, typer.Option(help="Most requests in flight at once.")] = None,
    max_context: Annotated[
        int | None, typer.Option(help="Context window in tokens (default: the server's).")
    ] = None,
    temperature: Temperature = None,
    decoding: DecodingFlags = None,
    seed: Annotated[int | None, typer.Option(help="Sampling seed.")] = None,
    config: ConfigFile = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
    debug: Debug = False,
) -> None:
    """Plan and write one long document, with a JSON sidecar of everything it took."""
    from agentwrite.llm.factory import check_backend
    from agentwrite.runner import awrite, make_brief

    with handled(debug):
        settings = settings_from(
            config, base_url=base_url, model=model, mode=mode, max_inflight=max_inflight,
            max_context=max_context, temperature=temperature, decoding=decoding, seed=seed,
        )  # fmt: skip
        if not serve:
            check_backend(settings)  # a missing 'local' extra is said before any work
        text = read_brief(brief)
        plan = None
        if plan_file is not None:
            try:
                plan = load_plan_file(plan_file.read_bytes().decode("utf-8"), str(plan_file))
            except OSError as exc:
                raise InputError(f"cannot read plan file {plan_file}: {exc.strerror}") from None
            except UnicodeDecodeError:
                raise InputError(f"plan file {plan_file} is not valid UTF-8") from None
        target = (
            plan.total_words
            if plan is not None and words is None
            else resolve_target(text, words, settings.max_words)
        )
        make_brief(text, target)  # refuse a bad brief before anything starts
        out = output or default_output(text)
        sidecar = json_path or out.with_name(out.name + ".json")
        check_writable(out)
        check_writable(sidecar)
        folder = run_dir or out.with_name(out.name + ".run")
        if resume and not (folder / "run.json").exists():
            typer.echo(f"nothing to resume in {folder}: starting a new run", err=True)

        try:
            with _served(serve, settings) as settings, RunProgress(target, enabled=not quiet) as progress:
                document = run(
                    lambda: awrite(
                        text, settings=settings, words=words, plan=plan, run_dir=folder, resume=resume,
                        on_event=progress.on_event,
                    )
                )  # fmt: skip
        except (ModelError, PlanError) as exc:
            raise AgentwriteError(f"{exc} (progress is kept in {folder}: continue with --resume)") from None
        write_atomically(out, document.markdown)
        write_atomically(sidecar, json.dumps(document.sidecar(), ensure_ascii=False, indent=2) + "\n")
        if not keep_run_dir:
            shutil.rmtree(folder, ignore_errors=True)
        typer.echo(
            f"wrote {out} ({document.words:,} words, {len(document.sections)} sections, "
            f"{document.usage.completion_tokens:,} tokens, {document.wall_seconds:.1f} s); sidecar {sidecar}",
            err=True,
        )


@contextmanager
def _served(serve: bool, settings: Settings) -> Iterator[Settings]:
    """With ``--serve``: a vLLM server for the bundled model, pointed at for the run."""
    if not serve:
        yield settings
        return
    from agentwrite.serve import start_server

    typer.echo("starting a vLLM server for the bundled model (a few minutes on CPU)...", err=True)
    with start_server() as server:
        yield settings.model_copy(update={"base_url": [server.base_url], "model": server.model_name})


@app.command()
def plan(
    brief: Annotated[
        str, typer.Argument(help="The writing instruction; '-' reads standard input, '@FILE' a file.")
    ],
    words: Words = None,
    base_url: BaseUrls = None,
    model: ModelName = None,
    config: ConfigFile = None,
    debug: Debug = False,
) -> None:
    """Print the plan for a brief as JSON (usable with write --plan)."""
    from agentwrite.runner import aplan

    with handled(debug):
        settings = settings_from(config, base_url=base_url, model=model)
        text = read_brief(brief)
        the_plan = run(lambda: aplan(text, settings=settings, words=words))
        typer.echo(the_plan.model_dump_json(indent=2))


@app.command()
def serve(
    model: Annotated[
        str | None, typer.Argument(help="A local Hugging Face model folder (default: the bundled model).")
    ] = None,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int | None, typer.Option(help="Port (default: a free one).")] = None,
    max_model_len: Annotated[int, typer.Option(help="Context window in tokens.")] = 8192,
    startup_timeout: Annotated[float, typer.Option(help="Seconds to wait for the server to answer.")] = 600.0,
    debug: Debug = False,
) -> None:
    """Start a vLLM OpenAI-compatible server, print its base URL, and run until Ctrl-C."""
    import signal

    from agentwrite.serve import start_server

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    # SIGTERM stops the server the way Ctrl-C does, instead of leaving it behind.
    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        with handled(debug):
            typer.echo("starting vLLM (a few minutes on CPU)...", err=True)
            server = start_server(
                model, host=host, port=port, max_model_len=max_model_len, startup_timeout=startup_timeout
            )
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


from agentwrite.dataset.cli import app as dataset_app  # noqa: E402  (sub-apps after the commands)

app.add_typer(dataset_app, name="dataset")

from agentwrite.evaluation.cli import app as eval_app  # noqa: E402

app.add_typer(eval_app, name="eval")


def main() -> None:
    """Console entry point."""
    app()


if __name__ == "__main__":
    main()
