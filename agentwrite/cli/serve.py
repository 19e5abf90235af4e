"""``agentwrite serve``: a vLLM OpenAI-compatible server for the bundled model or a local folder,
until Ctrl-C or SIGTERM."""

from __future__ import annotations

from typing import Annotated

import typer

from agentwrite.cli.support import Debug, handled
from agentwrite.errors import AgentwriteError
from agentwrite.llm.bundled import BUNDLED_MODEL_NAME
from agentwrite.llm.vllm_server import DEFAULT_PORT

CONTEXT_SETTINGS = {"allow_extra_args": True, "ignore_unknown_options": True}
"""What follows ``--`` goes to vLLM as it is."""


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

    from agentwrite.llm.vllm_server import resolve_model, start_server

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
