"""``agentwrite eval run|score|report``: thin wrappers of the evaluation library."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from agentwrite.cli.options import ConfigFile, Serve, ServeModel, SettingsFlags, with_setting_flags
from agentwrite.cli.support import Debug, handled, served, settings_from

if TYPE_CHECKING:
    from agentwrite.evaluation.predict import Target

# agentwrite.cli.root imports this module to add it as a sub-app, so the library modules a command
# runs are imported inside the command, never at import time.
app = typer.Typer(
    no_args_is_help=True, help="Benchmark long outputs: LongBench-Write length score, judge, coherence."
)

Concurrency = Annotated[int, typer.Option(help="Prompts (or judge calls) in flight at once.")]


@app.command("run")
@with_setting_flags()
def run_command(
    suite: Annotated[Path, typer.Argument(help="Suite JSONL ({'prompt', 'type', 'length'} a line).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Run folder (created; reused to resume).")],
    target: Annotated[
        str, typer.Option(help="agentwrite (the agent) or direct (one request).")
    ] = "agentwrite",
    concurrency: Concurrency = 4,
    limit: Annotated[int | None, typer.Option(help="Only the first N prompts of the suite.")] = None,
    serve: Serve = False,
    serve_model: ServeModel = None,
    config: ConfigFile = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress output.")] = False,
    debug: Debug = False,
    *,
    settings_flags: SettingsFlags,
) -> None:
    """Answer every prompt of a suite into OUT/predictions.jsonl (resumes; failures to failures.jsonl)."""
    from agentwrite.cli.progress import JobProgress
    from agentwrite.errors import InputError
    from agentwrite.evaluation.predict import SuiteProgress, arun_suite

    with handled(debug):
        if target not in ("agentwrite", "direct"):
            raise InputError(f"--target must be agentwrite or direct, not {target!r}")
        settings = settings_from(config, **settings_flags)

        bar = JobProgress("answering", enabled=not quiet)

        def progress(event: SuiteProgress) -> None:
            bar.item(
                f"{event.outcome:>6} {event.key}",
                done=event.answered + event.failed,
                total=event.total,
                tally={"answered": event.answered, "failed": event.failed},
                tokens=event.tokens,
            )

        chosen: Target = "direct" if target == "direct" else "agentwrite"
        with served(serve, settings, serve_model) as settings, bar:
            summary = asyncio.run(
                arun_suite(
                    suite, out, chosen, settings, concurrency=concurrency, limit=limit, on_item=progress
                )
            )
        typer.echo(
            f"{summary.done} answered, {summary.failed} failed, {summary.skipped} already done "
            f"of {summary.total}; predictions in {out / 'predictions.jsonl'}",
            err=True,
        )


@app.command()
@with_setting_flags(skip=("base_url", "model"))
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
    *,
    settings_flags: SettingsFlags,
) -> None:
    """Write scores.json and item_scores.jsonl: S_l, S_q with a judge, coherence, keeping to
    the brief (talk, on-topic, language, by tenth), plan adherence.

    The settings are the judge's (its server and model: --judge-base-url, --judge-model),
    and --topic-scorer names the on-topic figure's scorer (lexical by default, or minilm).
    The API key is never a flag: AGENTWRITE_API_KEY or OPENAI_API_KEY, or api_key in --config."""
    from agentwrite.cli.progress import JobProgress
    from agentwrite.evaluation.embeddings import load_embedder
    from agentwrite.evaluation.score import ascore_run, check_score_input
    from agentwrite.evaluation.score_files import RunScore, ScoreProgress
    from agentwrite.llm.factory import make_model
    from agentwrite.writing.topic import scorer

    with handled(debug):
        check_score_input(run_dir, concurrency, attempts, judge_max_context)  # before any loading
        settings = settings_from(config, base_url=judge_base_url, model=judge_model, **settings_flags)
        topic = scorer(settings.topic_scorer)
        embed = load_embedder() if embeddings else None
        judge = make_model(settings) if judge_base_url else None

        # plain=False: off a terminal score prints what it always did, no line per item
        bar = JobProgress("judging" if judge else "scoring", plain=False)

        def progress(event: ScoreProgress) -> None:
            judging = event.stage == "judge"
            tally = {"judged": event.done - event.failed, "failed": event.failed} if judging else {}
            description = "judging" if judging else "scoring"
            bar.item("", done=event.done, total=event.total, tally=tally, description=description)

        async def scored() -> RunScore:
            try:
                return await ascore_run(
                    run_dir,
                    judge,
                    embed=embed,
                    topic=topic,
                    concurrency=concurrency,
                    attempts=attempts,
                    judge_max_context=judge_max_context,
                    on_item=progress,
                )
            finally:
                if judge is not None:
                    await judge.aclose()

        with bar:
            result = asyncio.run(scored())
        line = f"S_l {result.s_l:.2f} over {result.items} items ({result.failed_items} failed)"
        if result.s_q is not None:
            line += f"; S_q {result.s_q:.2f} ({result.judged} judged); overall {result.overall:.2f}"
        if checks := result.brief_checks:
            line += (
                f"; talk {checks['talk_per_1000_words']:.2f} lines per 1,000 words, on-topic "
                f"{checks['on_topic']:.2f} ({result.topic_scorer}), "
                f"language match {checks['language_match_rate']:.2f}"
            )
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
    from agentwrite.evaluation.report import write_report

    with handled(debug):
        typer.echo(f"wrote {write_report(run_dirs, out)}")
