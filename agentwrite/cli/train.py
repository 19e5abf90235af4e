"""``agentwrite train sft|dpo BUILD --model bundled|FOLDER --out DIR``: thin wrappers of ``train.trainer``.

Every field of ``TrainRecipe`` is a flag of both commands, generated from the field
(``--kebab-case``, its type, ``--x/--no-x`` for a switch, its description and default as the help),
None meaning "not given", so that the recipe file's value or the default stands.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from agentwrite.cli.options import with_generated_flags
from agentwrite.cli.support import Debug, handled
from agentwrite.train.recipe import Method, TrainRecipe

app = typer.Typer(
    no_args_is_help=True,
    help="Fine-tune a model on a build: SFT on its examples, DPO on its preference pairs "
    "(the 'train' extra).",
)

RecipeFlags = dict[str, Any]
"""The parameter the commands get their recipe flags in (None: not given)."""


def recipe_flag(name: str) -> Any:
    """The typer annotation of one recipe field's flag.

    >>> recipe_flag("lora_rank").__metadata__[0].help
    'Rank of the LoRA adapters. (default 16)'
    """
    field = TrainRecipe.model_fields[name]
    kind: Any = field.annotation
    dashed = name.replace("_", "-")
    default = field.get_default()
    shown = {True: "on", False: "off"}.get(default, default) if isinstance(default, bool) else default
    help_text = (field.description or "") + ("" if default is None else f" (default {shown})")
    decl = f"--{dashed}/--no-{dashed}" if kind is bool else f"--{dashed}"
    return Annotated[kind | None, typer.Option(decl, help=help_text, rich_help_panel="Recipe")]


def with_recipe_flags(skip: tuple[str, ...]) -> Any:
    """Every recipe field but ``skip`` (those of the other method) as a flag, into ``recipe_flags``."""
    return with_generated_flags(
        [n for n in TrainRecipe.model_fields if n not in skip], recipe_flag, "recipe_flags"
    )


Build = Annotated[Path, typer.Argument(help="A dataset build folder (agentwrite dataset build).")]
Model = Annotated[
    str, typer.Option("--model", "-m", help="The model to train: 'bundled' or a local Hugging Face folder.")
]
Out = Annotated[Path, typer.Option("--out", "-o", help="New folder for the trained model, its log and card.")]
Recipe = Annotated[Path | None, typer.Option("--recipe", help="Training recipe (YAML); flags win.")]
Resume = Annotated[
    bool, typer.Option("--resume", help="Continue the training in --out from its last checkpoint.")
]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="No progress output.")]


def _train(
    method: Method, build: Path, model: str, out: Path, recipe: Path | None, resume: bool, quiet: bool,
    debug: bool, flags: RecipeFlags,
) -> None:  # fmt: skip
    from agentwrite.cli.progress import JobProgress
    from agentwrite.train.recipe import load_train_recipe
    from agentwrite.train.trainer import RECIPE_FILE, TrainStep, train

    with handled(debug):
        the_recipe = load_train_recipe(recipe, flags)
        bar = JobProgress(f"training ({method})", enabled=not quiet)

        def show(step: TrainStep) -> None:
            bar.item(
                f"step {step.step}/{step.max_steps} loss {step.loss:.4f} lr {step.learning_rate:.2e} "
                f"tokens {step.tokens}",
                done=step.step,
                total=step.max_steps,
                tally={},
                description=f"training ({method}), loss {step.loss:.3f}",
            )

        try:
            with bar:
                result = train(method, build, model, out, the_recipe, resume=resume, on_step=show)
        except KeyboardInterrupt:
            started = (out / RECIPE_FILE).is_file()
            hint = f"; the same command with --resume continues in {out}" if started else ""
            typer.echo(f"agentwrite: interrupted{hint}", err=True)
            raise typer.Exit(130) from None
        skipped = f", {result.skipped} skipped as too long" if result.skipped else ""
        typer.echo(
            f"trained on {result.rows} rows{skipped}: {result.steps} steps, final loss {result.final_loss}, "
            f"{result.seconds:.0f} s; {out} (agentwrite serve {out})",
            err=True,
        )


def _command(method: Method, skip: tuple[str, ...], doc: str) -> Any:
    """The ``train METHOD`` command: its own parameters, then the flags of the recipe but ``skip``."""

    @with_recipe_flags(skip)
    def command(
        build: Build,
        out: Out,
        model: Model = "bundled",
        recipe: Recipe = None,
        resume: Resume = False,
        quiet: Quiet = False,
        debug: Debug = False,
        *,
        recipe_flags: RecipeFlags,
    ) -> None:
        _train(method, build, model, out, recipe, resume, quiet, debug, recipe_flags)

    command.__doc__ = doc + "\n\n    Settings: the defaults, under the recipe file, under the flags."
    return command


app.command("sft")(
    _command(
        "sft",
        ("beta",),
        "Supervised fine-tuning on the build's kept examples (train.jsonl), loss on the answers.",
    )
)
app.command("dpo")(
    _command(
        "dpo",
        ("completion_only_loss",),
        "Preference training (DPO) on the build's pairs (pairs.jsonl, from dataset build --pairs).",
    )
)
