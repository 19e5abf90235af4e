"""``agentwrite eval run|score|report``: thin wrappers of the evaluation library."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from agentwrite.cli_options import BaseUrls, DecodingFlags, Temperature
from agentwrite.evaluation.run import Target

# agentwrite.cli imports this module to add it as a sub-app, so its helpers (handled, run,
# settings_from, _served) are imported inside the commands, never at import time.
app = typer.Typer(
    no_args_is_help=True, help="Benchmark long outputs: LongBench-Write length score, judge, coherence."
)

ModelName = Annotated[str | None, typer.Option(help="Model name on the server [env: AGENTWRITE_MODEL].")]
ConfigFile = Annotated[Path | None, typer.Option("--config", help="Settings file (YAML or TOML).")]
Debug = Annotated[bool, typer.Option("--debug", help="Show tracebacks and debug logs.")]
Concurrency = Annotated[int, typer.Option(help="Prompts (or judge calls) in flight at once.")]


@app.command("run")
def run_command(
    suite: Annotated[Path, typer.Argument(help="Suite JSONL ({'prompt', 'type', 'length'} a line).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Run folder (created; reused to resume).")],
    target: Annotated[
        str, typer.Option(help="agentwrite (the agent) or direct (one request).")
    ] = "agentwrite",
    concurrency: Concurrency = 4,
    limit: Annotated[int | None, typer.Option(help="Only the first N prompts of the suite.")] = None,
    base_url: BaseUrls = None,
    model: ModelName = None,
    serve: Annotated[
        bool, typer.Option("--serve", help="Start a vLLM server for the bundled model.")
    ] = False,
    mode: Annotated[str | None, typer.Option(help="Agent mode: sequential, parallel or sketch.")] = None,
    max_context: Annotated[
        int | None, typer.Option(help="Context window in tokens (default: the server's).")
    ] = None,
    max_inflight: Annotated[int | None, typer.Option(help="Most requests in flight at once.")] = None,
    temperature: Temperature = None,
    decoding: DecodingFlags = None,
    seed: Annotated[int | None, typer.Option(help="Sampling seed.")] = None,
    config: ConfigFile = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No per-prompt lines.")] = False,
    debug: Debug = False,
) -> None:
    """Answer every prompt of a suite into OUT/predictions.jsonl (resumes; failures to failures.jsonl)."""
    from agentwrite.cli import _served, handled, run, settings_from
    from agentwrite.errors import InputError
    from agentwrite.evaluation.run import arun_suite

    with handled(debug):
        if target not in ("agentwrite", "direct"):
            raise InputError(f"--target must be agentwrite or direct, not {target!r}")
        settings = settings_from(
            config, base_url=base_url, model=model, mode=mode, max_context=max_context,
            max_inflight=max_inflight, temperature=temperature, decoding=decoding, seed=seed,
        )  # fmt: skip

        def progress(key: str, outcome: str) -> None:
            if not quiet:
                typer.echo(f"{outcome:>6} {key}", err=True)

        chosen: Target = "direct" if target == "direct" else "agentwrite"
        with _served(serve, settings) as settings:
            summary = run(
                lambda: arun_suite(
                    suite, out, chosen, settings, concurrency=concurrency, limit=limit, on_item=progress
                )
            )
        typer.echo(
            f"{summary.done} answered, {summary.failed} failed, {summary.skipped} already done "
            f"of {summary.total}; predictions in {out / 'predictions.jsonl'}",
            err=True,
        )


@app.command()
def score(
    run_dir: Annotated[Path, typer.Argument(help="Run folder, or a predictions JSONL file.")],
    judge_base_url: Annotated[
        str | None, typer.Option(help="OpenAI-compatible API root of the judge (no judge: no S_q).")
    ] = None,
    judge_model: Annotated[
        str | None, typer.Option(help="Judge model name (default: the server's first).")
    ] = None,
    attempts: Annotated[int, typer.Option(help="Judge attempts per response.")] = 3,
    judge_max_context: Annotated[
        int | None,
        typer.Option(
            help="Judge's context window in tokens; longer responses are cut in the middle "
            "(default: what the judge's server reports)."
        ),
    ] = None,
    concurrency: Concurrency = 4,
    embeddings: Annotated[
        bool, typer.Option(help="Embedding metrics (brief drift, adjacent similarity) with all-MiniLM-L6-v2.")
    ] = True,
    config: ConfigFile = None,
    debug: Debug = False,
) -> None:
    """Write scores.json and item_scores.jsonl: S_l, S_q with a judge, coherence, plan adherence."""
    from agentwrite.cli import handled, run, settings_from
    from agentwrite.evaluation.embeddings import load_embedder
    from agentwrite.evaluation.score import ascore_run
    from agentwrite.llm.factory import make_model

    with handled(debug):
        embed = load_embedder() if embeddings else None
        judge = (
            make_model(settings_from(config, base_url=judge_base_url, model=judge_model))
            if judge_base_url
            else None
        )

        async def scored() -> dict:
            try:
                return await ascore_run(
                    run_dir,
                    judge,
                    embed=embed,
                    concurrency=concurrency,
                    attempts=attempts,
                    judge_max_context=judge_max_context,
                )
            finally:
                if judge is not None:
                    await judge.aclose()

        result = run(scored)
        line = f"S_l {result['s_l']:.2f} over {result['items']} items ({result['failed_items']} failed)"
        if "s_q" in result:
            line += f"; S_q {result['s_q']:.2f} ({result['judged']} judged); overall {result['overall']:.2f}"
        typer.echo(line)


@app.command()
def report(
    run_dirs: Annotated[list[Path], typer.Argument(help="Scored run folders, shown side by side.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for report.md and its plots.")] = Path(
        "report"
    ),
    debug: Debug = False,
) -> None:
    """Render a Markdown report with PNG plots for one or more scored runs."""
    from agentwrite.cli import handled
    from agentwrite.evaluation.report import write_report

    with handled(debug):
        typer.echo(f"wrote {write_report(run_dirs, out)}")
