"""What the three command-line apps (``agentwrite``, ``agentwrite dataset``, ``agentwrite
eval``) share besides their flags (``options``): one-line errors and exit codes, the
settings their flags make, and a vLLM server started for one command.

Exit codes: 0 success, 2 bad input, 1 runtime failure (each with a one-line message;
``--debug`` adds the traceback), 130 interrupted.
"""

from __future__ import annotations

import logging
import sys
import traceback
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from agentwrite.cli.options import setting_overrides
from agentwrite.errors import AgentwriteError
from agentwrite.settings import Settings, load_settings

Debug = Annotated[bool, typer.Option("--debug", help="Show tracebacks and debug logs.")]


class OneLineUsage(TyperGroup):
    """The root command group: a usage error (an unknown flag, a value of the wrong type or
    out of range) is one line and exit 2, like all bad input, instead of click's usage box."""

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        windows_expand_args: bool = True,
        **extra: Any,
    ) -> Any:
        def once() -> Any:
            return super(OneLineUsage, self).main(
                args, prog_name, complete_var, False, windows_expand_args, **extra
            )  # fmt: skip

        if not standalone_mode:
            return once()
        try:
            code = once()
        except typer.Abort:
            typer.echo("Aborted!", err=True)
            sys.exit(1)
        except Exception as exc:
            if not _is_usage_error(exc):
                raise
            if type(exc).__name__ == "NoArgsIsHelpError":  # the help, as click shows it
                exc.show()  # type: ignore[attr-defined]
            else:
                typer.echo(f"agentwrite: error: {_usage_line(exc)}", err=True)
            sys.exit(exc.exit_code)  # type: ignore[attr-defined]
        sys.exit(code if isinstance(code, int) else 0)


def _is_usage_error(exc: Exception) -> bool:
    """Whether ``exc`` is click's (typer's own copy of click's) ClickException: a usage error,
    a bad parameter value."""
    return isinstance(getattr(exc, "exit_code", None), int) and callable(getattr(exc, "format_message", None))


def _usage_line(exc: Exception) -> str:
    """A usage error in one line, with where to read the command's usage."""
    message = " ".join(exc.format_message().split())  # type: ignore[attr-defined]
    ctx = getattr(exc, "ctx", None)
    return message + (f" (see '{ctx.command_path} --help')" if ctx is not None else "")


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
    except KeyboardInterrupt:
        raise fail("interrupted", 130) from None
    except (typer.Exit, typer.Abort):
        raise
    except Exception as caught:
        if debug:
            traceback.print_exc()
        exc = first_cause(caught)
        if isinstance(exc, AgentwriteError):
            raise fail(str(exc).splitlines()[0], exc.exit_code) from None
        raise fail(
            f"unexpected {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}", 1
        ) from None


def first_cause(exc: BaseException) -> BaseException:
    """The first error inside a group of errors (tasks run together fail as a group), or
    ``exc`` itself.

    >>> first_cause(ExceptionGroup("tasks", [ValueError("bad plan"), KeyError("x")]))
    ValueError('bad plan')
    >>> first_cause(KeyError("x"))
    KeyError('x')
    """
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return exc


def settings_from(config: Path | None, **flags: Any) -> Settings:
    """Defaults < config file < environment < these flags (None means not given);
    ``decoding`` takes the ``--decoding ROLE.FIELD=VALUE`` flags as given."""
    return load_settings(config=config, overrides=setting_overrides(flags))


@contextmanager
def served(serve: bool, settings: Settings, model: str | None = None) -> Iterator[Settings]:
    """With ``--serve``: a vLLM server on a free port for ``model`` (a local folder; default the
    bundled model), pointed at for the run (its base URL and served model name)."""
    if not serve and model is None:
        yield settings
        return
    from agentwrite.llm.vllm_server import resolve_model, start_server

    name = resolve_model(model)[1]  # a folder that holds no model fails here, in one line
    typer.echo(f"starting a vLLM server for {name} (a few minutes on CPU)...", err=True)
    with start_server(model) as server:
        yield settings.model_copy(update={"base_url": [server.base_url], "model": server.model_name})
