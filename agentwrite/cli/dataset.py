"""``agentwrite dataset build|export|stats|instructions|merge``: thin wrappers of the library."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Annotated, Any

import typer

from agentwrite.cli.options import ConfigFile, SettingsFlags, setting_overrides, with_setting_flags
from agentwrite.cli.support import Debug, handled, settings_from
from agentwrite.errors import InputError

# agentwrite.cli.root imports this module to add it as a sub-app, so the library modules a command
# runs are imported inside the command, never at import time.
app = typer.Typer(no_args_is_help=True, help="Build LongWriter-style fine-tuning data with the agent.")


Recipe = Annotated[
    Path | None, typer.Option("--recipe", help="Build recipe (YAML: settings, filters, concurrency).")
]


@app.command()
@with_setting_flags()
def build(
    instructions: Annotated[Path, typer.Argument(help="Instruction JSONL ({'prompt': ...} a line).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Build folder (created; reused to resume).")],
    recipe: Recipe = None,
    concurrency: Annotated[int | None, typer.Option(help="Documents in flight at once.")] = None,
    limit: Annotated[int | None, typer.Option(help="Start at most this many new documents.")] = None,
    shard: Annotated[
        str | None,
        typer.Option(
            help="Build only shard I of N, numbered from 1 (1/4 to 4/4): the instructions whose id hashes "
            "to it. Join the shard folders with 'agentwrite dataset merge'."
        ),
    ] = None,
    max_tokens: Annotated[int | None, typer.Option(help="Drop examples longer than this (tokens).")] = None,
    min_length_score: Annotated[float | None, typer.Option(help="Drop documents with a lower S_l.")] = None,
    min_words: Annotated[int | None, typer.Option(help="Drop documents with fewer words.")] = None,
    tokenizer: Annotated[
        str | None, typer.Option(help="Tokenizer folder for exact token counts, or 'bundled'.")
    ] = None,
    pairs: Annotated[
        bool,
        typer.Option(
            "--pairs",
            help="Write preference pairs (OUT/pairs.jsonl) from the section checks' candidates: for each "
            "accepted document, each section whose kept and weakest candidates differ by --pair-margin.",
        ),
    ] = False,
    document_pairs: Annotated[
        bool,
        typer.Option(
            "--document-pairs",
            help="Also pair each accepted document with the model's one-request answer to its instruction, "
            "where that answer fails a filter (one more request a document).",
        ),
    ] = False,
    rejected_pairs: Annotated[
        bool,
        typer.Option(
            "--rejected-pairs",
            help="With --pairs, also keep the section pairs of a rejected document that the failed "
            "filter's own check separates (a Chinese section chosen over an English one in a document "
            "rejected for its language).",
        ),
    ] = False,
    pair_margin: Annotated[
        float | None,
        typer.Option(help="Least combined-score difference of a section pair (default 0.1)."),
    ] = None,
    ray: Annotated[
        str | None,
        typer.Option(
            "--ray",
            metavar="ADDRESS",
            help="Run as a Ray Data job: 'local' starts a cluster of this machine for the build, 'auto' "
            "joins the one 'ray start' runs here, HOST:PORT that one (needs the 'ray' extra).",
        ),
    ] = None,
    actors: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="With --ray: writer actors, each with --concurrency documents in flight (default: "
            "one per node).",
        ),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress output.")] = False,
    debug: Debug = False,
    *,
    settings_flags: SettingsFlags,
) -> None:
    """Write one document per instruction; keep the good ones in OUT/train.jsonl.

    Settings: the recipe's settings, under the environment, under the flags."""
    from agentwrite.cli.progress import JobProgress
    from agentwrite.dataset.build import BuildProgress, abuild_dataset
    from agentwrite.dataset.recipe import load_recipe, recipe_settings, with_overrides
    from agentwrite.dataset.shards import parse_shard

    with handled(debug):
        if actors is not None and ray is None:
            raise InputError("--actors needs --ray")
        the_shard = parse_shard(shard) if shard is not None else None
        the_recipe = load_recipe(recipe)
        the_recipe = with_overrides(
            the_recipe,
            {
                "concurrency": concurrency,
                "tokenizer": tokenizer,
                "pairs": pairs or None,  # a flag left out keeps the recipe's choice
                "document_pairs": document_pairs or None,
                "rejected_pairs": rejected_pairs or None,
                "pair_margin": pair_margin,
            },
            {"max_tokens": max_tokens, "min_length_score": min_length_score, "min_words": min_words},
        )
        settings = recipe_settings(the_recipe, setting_overrides(settings_flags))

        bar = JobProgress("building", enabled=not quiet)

        def show(event: BuildProgress) -> None:
            why = f" ({event.reason})" if event.reason else ""
            bar.item(
                f"[{event.done}/{event.total}] {event.id} {event.status}{why}",
                done=event.done,
                total=event.total,
                tally={"accepted": event.accepted, "rejected": event.done - event.accepted},
                tokens=event.tokens,
            )

        common: dict[str, Any] = {"recipe": the_recipe, "limit": limit, "on_event": show, "shard": the_shard}
        with bar:
            if ray is not None:
                from agentwrite.dataset.ray_build import build_dataset_ray

                stats = build_dataset_ray(instructions, out, settings, address=ray, actors=actors, **common)
            else:
                stats = asyncio.run(abuild_dataset(instructions, out, settings, **common))
        typer.echo(f"{_tally(stats)}; {out / 'train.jsonl'}", err=True)


@app.command()
def export(
    build_dir: Annotated[Path, typer.Argument(help="A build folder.")],
    fmt: Annotated[
        str,
        typer.Option(
            "--format",
            "-f",
            help="messages, sharegpt, alpaca or parquet (a file); dpo (a file: the build's preference "
            "pairs, rows {id, prompt, chosen, rejected} in TRL's conversational preference form); hf, "
            "prompt-completion or dpo-hf (a Hugging Face datasets folder with a dataset card: rows {id, "
            "messages}, {id, prompt, completion} for TRL's SFTTrainer, loss on the completion only, or "
            "the dpo rows for DPOTrainer; folders so that --test-size gives both splits in one, loaded "
            "with datasets.load_from_disk).",
        ),
    ] = "messages",
    out: Annotated[
        Path | None,
        typer.Option(
            "--out", "-o", help="Output file, or new folder for hf formats (default: BUILD/export/)."
        ),
    ] = None,
    test_size: Annotated[
        float | None,
        typer.Option(
            "--test-size",
            metavar="FRACTION",
            help="hf formats: put about this fraction of the ids in a test split (by a hash of the "
            "instruction's id).",
        ),
    ] = None,
    debug: Debug = False,
) -> None:
    """Write the training examples in another format."""
    from agentwrite.dataset.export import FORMATS
    from agentwrite.dataset.export import export as export_examples
    from agentwrite.dataset.hf import HF_FORMATS, export_hf

    with handled(debug):
        if fmt in HF_FORMATS:
            typer.echo(str(export_hf(build_dir, fmt, out, test_size)))
        elif fmt not in FORMATS:
            raise InputError(
                f"unknown export format {fmt!r}; choose one of {', '.join(FORMATS + HF_FORMATS)}"
            )
        elif test_size is not None:
            raise InputError("--test-size goes with --format hf, prompt-completion or dpo-hf")
        else:
            typer.echo(str(export_examples(build_dir, fmt, out)))


@app.command()
def stats(
    build_dir: Annotated[Path, typer.Argument(help="A build folder.")],
    debug: Debug = False,
) -> None:
    """Recompute BUILD/stats.json and the length plot, and print the stats."""
    from agentwrite.dataset.stats import write_stats

    with handled(debug):
        if not (build_dir / "meta.jsonl").exists():
            raise InputError(f"{build_dir} holds no meta.jsonl; is it a dataset build folder?")
        typer.echo(json.dumps(write_stats(build_dir), ensure_ascii=False, indent=2))


@app.command()
@with_setting_flags(skip=("seed",))
def instructions(
    out: Annotated[Path, typer.Option("--out", "-o", help="JSONL file to write.")],
    n: Annotated[int, typer.Option("--n", help="How many instructions to keep.")] = 100,
    seeds: Annotated[Path, typer.Option(help="Genre and topic seeds (YAML).")] = Path(
        "datasets/instructions/seeds.yaml"
    ),
    avoid: Annotated[
        Path | None, typer.Option(help="Instruction JSONL whose prompts must not be repeated.")
    ] = None,
    concurrency: Annotated[int, typer.Option(help="Requests in flight at once.")] = 8,
    seed: Annotated[
        int,
        typer.Option(
            help="Seed of the genre/topic/length draws (the sampling seed: AGENTWRITE_SEED or --config)."
        ),
    ] = 0,
    config: ConfigFile = None,
    debug: Debug = False,
    *,
    settings_flags: SettingsFlags,
) -> None:
    """Ask the model for new long-writing instructions from genre and topic seeds."""
    from agentwrite.dataset.instructions import (
        InstructionSeeds,
        generate_instructions,
        read_instructions,
        write_instructions,
    )
    from agentwrite.files.output_paths import output_file
    from agentwrite.llm.factory import make_model

    with handled(debug):
        settings = settings_from(config, **settings_flags)
        output_file(out, "--out")  # before any model call
        the_seeds = InstructionSeeds.load(seeds)
        existing = [i.prompt for i in read_instructions(avoid)[0]] if avoid is not None else []

        async def go() -> int:
            chat = make_model(settings)
            try:
                items = await generate_instructions(
                    chat, n, the_seeds, concurrency=concurrency, seed=seed, existing=existing
                )
            finally:
                await chat.aclose()
            return write_instructions(out, items)

        typer.echo(f"wrote {asyncio.run(go())} instructions to {out}", err=True)


@app.command()
def merge(
    folders: Annotated[list[Path], typer.Argument(help="Build folders (the shards), merged in this order.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="New folder for the merged build.")],
    debug: Debug = False,
) -> None:
    """Merge build folders into one, dropping near-duplicates across them with the builds' filter."""
    from agentwrite.dataset.merge import merge_builds

    with handled(debug):
        merged = merge_builds(folders, out)
        dropped = f"{len(merged.duplicates)} dropped as near-duplicates across the sources"
        typer.echo(f"{_tally(merged.stats)}, {dropped}; {out / 'train.jsonl'}", err=True)


def _tally(stats: dict[str, Any]) -> str:
    """A build's outcome in a few words, from its stats.

    >>> _tally({"accepted": 8, "rejected": 2, "instructions": 10, "acceptance_rate": 0.8})
    '8 accepted, 2 rejected of 10 (80%)'
    >>> _tally({"accepted": 1, "rejected": 0, "instructions": 1, "acceptance_rate": 1, "pairs": {"count": 3}})
    '1 accepted, 0 rejected of 1 (100%), 3 preference pairs'
    """
    pairs = f", {stats['pairs']['count']} preference pairs" if "pairs" in stats else ""
    return (
        f"{stats['accepted']} accepted, {stats['rejected']} rejected of {stats['instructions']} "
        f"({stats['acceptance_rate']:.0%}){pairs}"
    )
