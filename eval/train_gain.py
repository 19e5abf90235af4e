"""What training on the agent's own data does to a model's one-request answers.

1. Picks N instructions that do not overlap the evaluation suite (no shared id or prompt, no
   word 3-gram Jaccard of 0.5 or more with a suite prompt; at most ``--max-words`` asked for;
   languages taken in turn).
2. Builds them into a dataset with the agent, against the model's server (``dataset build``).
3. Runs the one-request baseline (``eval run --target direct``) on the suite, before.
4. Trains the model on the build (``agentwrite train sft|dpo``, the recipe given).
5. Serves the trained model and runs the same baseline, after.
6. Scores both runs and prints one table: S_l, the share of repeated sentences, the share of
   answers in the prompt's language, the similarity of the answer to the brief (with the
   ``eval`` extra's embedder; ``--no-embed`` leaves it out), wall time, and the training's
   rows, steps, seconds and examples per hour (optimizer steps x batch size x gradient
   accumulation, per hour of training). ``OUT/gain.json`` keeps the figures.

The build keeps the section checks' preference pairs (``dataset build --pairs``: none where the
writer keeps no candidates); with ``--method dpo`` it adds document pairs (``--document-pairs``:
the agent's document against the one-request answer, one more request a document), which
``agentwrite train dpo`` trains on; ``--rejected-pairs`` keeps the section pairs of rejected
documents that their failed check separates (``dataset build --rejected-pairs``).

Every stage writes under ``--out`` and resumes as its command does (the build, the runs);
a trained model already in ``OUT/model`` is used again.

    .venv/bin/agentwrite serve --port 8011 &          # the bundled model, for the build and "before"
    .venv/bin/python eval/train_gain.py --base-url http://127.0.0.1:8011/v1 --n 24 --max-words 1500 \\
        --recipe datasets/recipes/train-lora-cpu.yaml --out eval/results/train_gain_cpu

Without ``--base-url`` a server for the base model is started for steps 2 and 3; the trained
model always gets one of its own (``agentwrite.llm.vllm_server``), stopped at the end.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import platform
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

from agentwrite.dataset.build import build_dataset
from agentwrite.dataset.instructions import Instruction, read_instructions, write_instructions
from agentwrite.dataset.near_duplicates import jaccard, shingles
from agentwrite.dataset.recipe import Recipe
from agentwrite.evaluation.predict import PREDICTIONS, run_suite
from agentwrite.evaluation.score import score_run
from agentwrite.evaluation.suites import load_suite
from agentwrite.files import read_jsonl, write_json
from agentwrite.settings import load_settings
from agentwrite.train.recipe import Method, load_train_recipe
from agentwrite.train.trainer import train
from agentwrite.writing.language import brief_language, language_of

ROOT = Path(__file__).resolve().parent.parent
SUITE = ROOT / "eval" / "suites" / "brief.jsonl"
INSTRUCTIONS = ROOT / "datasets" / "instructions" / "seed.jsonl"
OVERLAP = 0.5
"""Word 3-gram Jaccard at or above which an instruction counts as the same task as a suite prompt."""

Serve = Callable[[str], AbstractContextManager[tuple[str, str]]]
"""A model (``bundled`` or a folder) to a context that serves it: (base URL, served model name)."""


def pick_instructions(
    instructions: list[Instruction], suite_prompts: list[str], n: int, max_words: int
) -> list[Instruction]:
    """``n`` instructions that overlap no suite prompt and ask for at most ``max_words``,
    taking the languages in turn (in file order within each)."""
    suite_grams = [shingles(p, 3) for p in suite_prompts]
    fit = [
        i
        for i in instructions
        if i.length <= max_words
        and i.prompt not in suite_prompts
        and all(jaccard(shingles(i.prompt, 3), grams) < OVERLAP for grams in suite_grams)
    ]
    by_language: dict[str, list[Instruction]] = {}
    for item in fit:
        by_language.setdefault(item.language, []).append(item)
    picked: list[Instruction] = []
    queues = [list(reversed(q)) for _, q in sorted(by_language.items())]
    while len(picked) < n and any(queues):
        for queue in queues:
            if queue and len(picked) < n:
                picked.append(queue.pop())
    return picked


def answer_figures(run_dir: Path, embed: Any) -> dict[str, Any]:
    """The baseline run's figures: S_l, repeated sentences, language match, brief similarity."""
    scores = score_run(run_dir, embed=embed)
    rows = read_jsonl(run_dir / PREDICTIONS)
    same = [language_of(r["response"]) == brief_language(r["prompt"]) for r in rows if r["response"].strip()]
    return {
        "answers": scores.items,
        "failed": scores.failed_items,
        "s_l": round(scores.s_l, 1),
        "repeated_sentences": scores.coherence.get("document_repeated_sentence_rate"),
        "language_match": round(sum(same) / len(rows), 3) if rows else None,
        "brief_similarity": scores.coherence.get("brief_similarity"),
        "words_mean": round(sum(r["response_length"] for r in rows) / len(rows)) if rows else 0,
    }


def _baseline(suite: Path, run_dir: Path, base_url: str, model: str) -> float:
    started = time.monotonic()
    settings = load_settings(overrides={"base_url": base_url, "model": model})
    run_suite(suite, run_dir, "direct", settings, concurrency=2)
    return round(time.monotonic() - started, 1)


@contextlib.contextmanager
def vllm_server(model: str) -> Iterator[tuple[str, str]]:
    """A vLLM server for ``model`` on a free port, for the length of the block."""
    from agentwrite.llm.vllm_server import start_server

    with start_server(None if model == "bundled" else model) as server:
        yield server.base_url, server.model_name


@contextlib.contextmanager
def given_server(base_url: str, model: str) -> Iterator[tuple[str, str]]:
    """A server already running: its URL and the model it serves (empty: its first)."""
    yield base_url, model


def measure_gain(
    *,
    out: Path,
    n: int,
    max_words: int,
    method: Method,
    model: str,
    recipe_path: Path | None,
    serve_base: AbstractContextManager[tuple[str, str]],
    serve: Serve,
    suite: Path = SUITE,
    instructions: Path = INSTRUCTIONS,
    embed: Any = None,
    rejected_pairs: bool = False,
) -> dict[str, Any]:
    """Run the six steps (see the module docstring) and return what ``gain.json`` holds."""
    out.mkdir(parents=True, exist_ok=True)
    suite_prompts = [item.prompt for item in load_suite(suite)]
    picked = pick_instructions(read_instructions(instructions)[0], suite_prompts, n, max_words)
    write_instructions(out / "instructions.jsonl", picked)
    recipe = load_train_recipe(recipe_path)
    timings: dict[str, float] = {}
    with serve_base as (base_url, name):
        started = time.monotonic()
        settings = load_settings(overrides={"base_url": base_url, "model": name})
        recipe_of_build = Recipe(
            concurrency=4, pairs=True, document_pairs=method == "dpo", rejected_pairs=rejected_pairs
        )
        build = build_dataset(out / "instructions.jsonl", out / "build", settings, recipe=recipe_of_build)
        timings["build"] = round(time.monotonic() - started, 1)
        timings["before"] = _baseline(suite, out / "before", base_url, name)
    trained = out / "model"
    if not (trained / "config.json").is_file():
        result = train(
            method, out / "build", model, trained, recipe, resume=(trained / "training_recipe.yaml").exists()
        )
        training = {
            "rows": result.rows, "skipped": result.skipped, "steps": result.steps,
            "seconds": result.seconds, "final_loss": result.final_loss,
        }  # fmt: skip
        write_json(out / "training.json", training)
    training = json.loads((out / "training.json").read_text("utf-8"))
    seen = training["steps"] * recipe.batch_size * recipe.gradient_accumulation  # rows through the model
    training["examples_per_hour"] = (
        round(seen / training["seconds"] * 3600, 1) if training["seconds"] else None
    )
    with serve(str(trained)) as (url, name):
        timings["after"] = _baseline(suite, out / "after", url, name)
    result_figures = {
        "machine": platform.node(),
        "suite": str(suite),
        "instructions": [i.id for i in picked],
        "build": {
            **{k: build[k] for k in ("instructions", "accepted", "rejected")},
            "pairs": build.get("pairs", {}).get("count", 0),
        },
        "method": method,
        "base_model": model,
        "training": training,
        "before": {**answer_figures(out / "before", embed), "seconds": timings["before"]},
        "after": {**answer_figures(out / "after", embed), "seconds": timings["after"]},
        "build_seconds": timings["build"],
    }
    write_json(out / "gain.json", result_figures)
    return result_figures


def table(figures: dict[str, Any]) -> str:
    """The Markdown table of ``gain.json``."""
    columns = (
        "s_l",
        "repeated_sentences",
        "language_match",
        "brief_similarity",
        "words_mean",
        "failed",
        "seconds",
    )
    lines = [
        "| model | " + " | ".join(columns) + " |",
        "|" + " --- |" * (len(columns) + 1),
    ]
    for side in ("before", "after"):
        row = figures[side]
        lines.append(
            f"| {side} | " + " | ".join("n/a" if row.get(c) is None else str(row[c]) for c in columns) + " |"
        )
    t = figures["training"]
    lines.append("")
    built = figures["build"]
    lines.append(
        f"{figures['method']} on {built['accepted']} kept of {built['instructions']} built, "
        f"{built['pairs']} preference pairs "
        f"({figures['build_seconds']} s to build): {t['rows']} rows trained on, {t['skipped']} skipped as "
        f"too long, {t['steps']} steps, {t['seconds']} s, {t['examples_per_hour']} examples/hour, "
        f"final loss {t['final_loss']}"
    )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--n", type=int, default=24, help="Instructions to build (default 24).")
    parser.add_argument(
        "--max-words", type=int, default=1500, help="Longest document asked for (default 1500)."
    )
    parser.add_argument("--method", choices=("sft", "dpo"), default="sft")
    parser.add_argument("--model", default="bundled", help="The model to train: bundled or a folder.")
    parser.add_argument("--recipe", type=Path, help="Training recipe (YAML).")
    parser.add_argument("--base-url", help="A server for the base model (default: start one).")
    parser.add_argument("--served-name", default="", help="Its model name (default: its first).")
    parser.add_argument("--suite", type=Path, default=SUITE)
    parser.add_argument("--instructions", type=Path, default=INSTRUCTIONS)
    parser.add_argument("--no-embed", action="store_true", help="Leave out the brief similarity.")
    parser.add_argument(
        "--rejected-pairs", action="store_true", help="Keep rejected documents' pairs of their failed check."
    )
    args = parser.parse_args()
    embed = None
    if not args.no_embed:
        from agentwrite.evaluation.embeddings import load_embedder

        embed = load_embedder()
    base = given_server(args.base_url, args.served_name) if args.base_url else vllm_server(args.model)
    figures = measure_gain(
        out=args.out, n=args.n, max_words=args.max_words, method=args.method, model=args.model,
        recipe_path=args.recipe, serve_base=base, serve=vllm_server, suite=args.suite,
        instructions=args.instructions, embed=embed, rejected_pairs=args.rejected_pairs,
    )  # fmt: skip
    print(table(figures))


if __name__ == "__main__":
    main()
