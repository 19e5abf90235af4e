"""The card (``README.md``) of a model folder that ``agentwrite train`` wrote."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from agentwrite.dataset.stats import STATS_FILE
from agentwrite.train.data import Fitted

_SHOWN_IDS = 20


def _figure(value: float | None) -> str:
    """A loss to four significant digits.

    >>> _figure(10.604889869689941), _figure(None)
    ('10.6', 'none')
    """
    return "none" if value is None else f"{value:.4g}"


def _build_summary(build_dir: Path, method: str) -> list[str]:
    """What the build's ``stats.json`` says of the data, when it is there."""
    try:
        stats = json.loads((build_dir / STATS_FILE).read_text("utf-8"))
    except (OSError, ValueError):
        return []
    lines = [
        f"The build: {stats['instructions']} instructions, {stats['accepted']} documents kept by its filters "
        f"(words: mean {stats['words']['mean']}, median {stats['words']['median']})."
    ]
    pairs = stats.get("pairs")
    if method == "dpo" and pairs:
        kinds = ", ".join(f"{kind} {n}" for kind, n in pairs["by_kind"].items())
        separated = ", ".join(f"{k} {v}" for k, v in pairs["separated_by"].items()) or "not recorded"
        lines.append(
            f"Its preference pairs: {pairs['count']} ({kinds}), margin mean {pairs['margin']['mean']}; "
            f"separated by: {separated}."
        )
    return [*lines, ""]


def model_card(
    name: str, description: dict[str, Any], fitted: Fitted, steps: list[dict[str, Any]], global_step: int
) -> str:
    """The card: base model, data (with the rows skipped as too long), training figures, recipe.

    >>> recipe = {"max_length": 64, "lora": True, "completion_only_loss": True}
    >>> card = model_card("m-sft", {"method": "sft", "base_model": "m", "build": "/b", "recipe": recipe},
    ...     Fitted(rows=[{}], total=2, skipped=["x"], longest=60), [{"step": 1, "loss": 2.5}], 1)
    >>> "2 rows, 1 trained on; 1 skipped as longer than max_length 64 tokens: x" in card
    True
    """
    method, recipe = description["method"], description["recipe"]
    skipped = fitted.skipped
    shown = ", ".join(skipped[:_SHOWN_IDS]) + (
        f" and {len(skipped) - _SHOWN_IDS} more" if len(skipped) > _SHOWN_IDS else ""
    )
    what = {"sft": "supervised fine-tuning", "dpo": "direct preference optimisation (DPO)"}[method]
    loss_on = (
        "the loss on the answer's tokens only"
        if method == "sft" and recipe.get("completion_only_loss")
        else "the loss on every token"
        if method == "sft"
        else "TRL's sigmoid DPO loss against the base model as the reference"
    )
    header = {
        "base_model": description["base_model"],
        "library_name": "transformers",
        "tags": ["agentwrite", "trl", method] + (["lora"] if recipe.get("lora") else []),
    }
    first, last = (steps[0], steps[-1]) if steps else ({}, {})
    lines = [
        "---",
        yaml.safe_dump(header, sort_keys=False).strip(),
        "---",
        f"# {name}",
        "",
        f"`{description['base_model']}` after {what} with `agentwrite train {method}` on the build "
        f"`{description['build']}`, with {loss_on}"
        + (", LoRA adapters merged into the weights." if recipe.get("lora") else ", all weights trained."),
        "",
        "## Data",
        "",
        f"{fitted.total} rows, {len(fitted.rows)} trained on"
        + (
            f"; {len(skipped)} skipped as longer than max_length {recipe['max_length']} tokens: {shown}"
            if skipped
            else ""
        )
        + f". The longest row trained on: {fitted.longest} tokens.",
        "",
        *_build_summary(Path(description["build"]), method),
        "## Training",
        "",
        f"{global_step} optimizer steps; loss {_figure(first.get('loss'))} at the first step, "
        f"{_figure(last.get('loss'))} at the last; {last.get('tokens', 0)} tokens seen. "
        "Every step: `training_log.jsonl`.",
        "",
        "## Recipe",
        "",
        f"```yaml\n{yaml.safe_dump(description, sort_keys=False, allow_unicode=True).strip()}\n```",
        "",
        "## Use",
        "",
        "```bash\nagentwrite serve THIS_FOLDER\nagentwrite write BRIEF --serve-model THIS_FOLDER\n```",
    ]
    return "\n".join(lines) + "\n"
