"""One training run: check everything, train with TRL, write a model folder that vLLM serves.

``train(method, build_dir, model, out, recipe)`` checks the input before any work (the ``train``
extra, the device, the build's rows and their lengths, the output folder), then trains with TRL's
``SFTTrainer`` or ``DPOTrainer`` (LoRA adapters on every linear layer, or all weights) and writes
into ``out``:

- the model: weights (LoRA merged in, in the base model's dtype), config, generation config,
  tokenizer and chat template, so that ``agentwrite serve OUT`` and ``write --serve-model OUT``
  take it as they take any Hugging Face folder
- ``training_log.jsonl``: a ``data`` line (rows, rows skipped as too long), one ``step`` line per
  optimizer step (``step``, ``loss``, ``learning_rate``, ``tokens`` seen so far, and TRL's other
  figures), ``resume`` lines, and a ``done`` line
- ``training_recipe.yaml``: the method, base model, build and recipe as used
- ``README.md``: the model card

Checkpoints go to ``out/checkpoints`` every ``save_steps`` steps; ``resume=True`` continues from the
last one (same recipe, model and build) and they are removed once the model is written. The
weights are written to a hidden folder inside ``out`` and moved into place last, so a folder with
a ``config.json`` holds a whole model.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import math
import os
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from agentwrite.errors import AgentwriteError, InputError
from agentwrite.files import append_jsonl, read_jsonl, write_text
from agentwrite.train.card import model_card
from agentwrite.train.data import Fitted, build_rows, chat_token_counter, fit_rows
from agentwrite.train.recipe import Method, TrainRecipe

TRAIN_MODULES = ("torch", "transformers", "trl", "peft", "accelerate", "datasets")
TRAIN_EXTRA_COMMAND = "pip install 'agentwrite[train]'"
LOG_FILE = "training_log.jsonl"
RECIPE_FILE = "training_recipe.yaml"
CHECKPOINTS = "checkpoints"
CARD = "README.md"


class TrainingDiverged(AgentwriteError):
    """The loss stopped being a finite number."""


@dataclass(frozen=True)
class TrainStep:
    """One optimizer step done: what the progress bar shows."""

    step: int
    max_steps: int
    loss: float
    learning_rate: float
    tokens: int


@dataclass(frozen=True)
class TrainResult:
    """What a finished run wrote and did."""

    out: Path
    steps: int
    rows: int
    skipped: int
    final_loss: float | None
    seconds: float


def require_train_extra() -> None:
    """InputError, in one line, when a package ``agentwrite train`` imports is missing (found
    without importing it)."""
    missing = [m for m in TRAIN_MODULES if importlib.util.find_spec(m) is None]
    if not missing:
        return
    torch_note = (
        " (torch is not part of it: install the one your machine needs first, e.g. pip install torch==2.13.0 "
        "on a CPU)"
        if "torch" in missing
        else ""
    )
    raise InputError(
        f"agentwrite train needs the 'train' extra ({', '.join(missing)} not installed): "
        f"{TRAIN_EXTRA_COMMAND}{torch_note}"
    )


def pick_device(wanted: str) -> str:
    """``cuda`` or ``cpu``; InputError when a GPU is asked for and torch sees none."""
    import torch

    seen = torch.cuda.is_available()
    if wanted == "cuda" and not seen:
        build = "a CPU build" if torch.version.cuda is None else f"CUDA {torch.version.cuda}"
        raise InputError(f"--device cuda, but torch {torch.__version__} ({build}) sees no CUDA GPU")
    return "cuda" if wanted == "cuda" or (wanted == "auto" and seen) else "cpu"


def run_description(method: Method, base: str, build_dir: Path, recipe: TrainRecipe) -> dict[str, Any]:
    """What ``training_recipe.yaml`` holds: a resumed run must match it."""
    return {
        "method": method,
        "base_model": base,
        "build": str(Path(build_dir).resolve()),
        "recipe": recipe.model_dump(),
    }


def _check_out(out: Path, resume: bool, description: dict[str, Any]) -> bool:
    """Whether ``out`` holds a run to resume; InputError for an ``out`` this run may not use."""
    if out.exists() and not out.is_dir():
        raise InputError(f"{out} exists and is not a folder")
    if (out / "config.json").exists():
        raise InputError(f"{out} already holds a trained model; choose another --out")
    if not out.exists() or not any(out.iterdir()):
        return False
    if not resume:
        raise InputError(f"{out} exists and is not empty: --resume continues the training there")
    if not (out / RECIPE_FILE).is_file():
        raise InputError(f"{out} holds no {RECIPE_FILE}: there is no training of agentwrite to resume")
    try:
        before = yaml.safe_load((out / RECIPE_FILE).read_text("utf-8"))
    except (OSError, yaml.YAMLError):
        before = None
    if not isinstance(before, dict):
        raise InputError(f"{out / RECIPE_FILE} cannot be read back: start again in a new folder")
    differ = [k for k in description if k != "recipe" and before.get(k) != description[k]]
    differ += [
        f"recipe.{k}" for k, v in description["recipe"].items() if (before.get("recipe") or {}).get(k) != v
    ]
    if differ:
        raise InputError(f"{out} was started with another {', '.join(differ)}: resume with the same ones")
    return True


@contextlib.contextmanager
def _no_library_bars() -> Iterator[None]:
    """The progress bars of datasets and transformers off for the block (the caller shows its own)."""
    from datasets.utils import are_progress_bars_disabled, disable_progress_bars, enable_progress_bars
    from transformers.utils import logging as hf_logging

    datasets_were_on = not are_progress_bars_disabled()
    transformers_were_on = hf_logging.is_progress_bar_enabled()
    disable_progress_bars()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if datasets_were_on:
            enable_progress_bars()
        if transformers_were_on:
            hf_logging.enable_progress_bar()


def _log_lines_up_to(log: Path, step: int) -> list[dict[str, Any]]:
    """The log's records but the steps after ``step`` (they are done again from the checkpoint)."""
    return [r for r in read_jsonl(log) if r.get("event") != "step" or r["step"] <= step]


def _make_journal(log: Path, on_step: Callable[[TrainStep], None] | None) -> Any:
    """A TrainerCallback that appends each logged step to ``log`` and tells ``on_step``; a loss
    that is not finite stops the run with TrainingDiverged."""
    from transformers import TrainerCallback

    class Journal(TrainerCallback):  # type: ignore[misc]
        def on_log(
            self, args: Any, state: Any, control: Any, logs: dict[str, Any] | None = None, **_: Any
        ) -> None:
            if not logs or "loss" not in logs:
                return  # the end-of-training summary
            loss = float(logs["loss"])
            record = {
                "event": "step",
                "step": state.global_step,
                "loss": loss,
                "learning_rate": float(logs.get("learning_rate", 0.0)),
                "tokens": int(logs.get("num_tokens", 0)),
                **{k: v for k, v in logs.items() if k not in ("loss", "learning_rate", "num_tokens")},
            }
            with log.open("a", encoding="utf-8") as handle:
                append_jsonl(handle, record)
            if not math.isfinite(loss):
                raise TrainingDiverged(
                    f"the loss is {loss} at step {state.global_step}: lower the learning rate "
                    f"(checkpoints are kept in {Path(args.output_dir)})"
                )
            if on_step is not None:
                on_step(
                    TrainStep(
                        state.global_step, state.max_steps, loss, record["learning_rate"], record["tokens"]
                    )
                )

    return Journal()


def make_trainer(
    method: Method,
    base: Path,
    rows: list[dict[str, Any]],
    tokenizer: Any,
    recipe: TrainRecipe,
    device: str,
    checkpoints: Path,
) -> Any:
    """TRL's trainer for ``method`` on ``rows`` (``data.build_rows``), checkpointing into
    ``checkpoints``, the model loaded from ``base`` (fp32 on a CPU, bf16 on a GPU that has it);
    ``recipe`` resolved."""
    import torch
    from peft import LoraConfig
    from transformers import AutoModelForCausalLM
    from trl import DPOConfig, DPOTrainer, SFTConfig, SFTTrainer

    from datasets import Dataset

    bf16 = device == "cuda" and torch.cuda.is_bf16_supported()
    model = AutoModelForCausalLM.from_pretrained(
        str(base), dtype=torch.bfloat16 if bf16 else torch.float32, local_files_only=True
    )
    common: dict[str, Any] = {
        "output_dir": str(checkpoints),
        "num_train_epochs": recipe.epochs,
        "max_steps": recipe.max_steps or -1,
        "learning_rate": recipe.learning_rate,
        "lr_scheduler_type": "linear",
        "per_device_train_batch_size": recipe.batch_size,
        "gradient_accumulation_steps": recipe.gradient_accumulation,
        "gradient_checkpointing": recipe.gradient_checkpointing,
        "gradient_checkpointing_kwargs": {"use_reentrant": False},
        "max_length": recipe.max_length,
        "seed": recipe.seed,
        "logging_steps": 1,
        "save_strategy": "steps",
        "save_steps": recipe.save_steps,
        "save_total_limit": 1,
        "report_to": "none",
        "disable_tqdm": True,
        "use_cpu": device == "cpu",
        "bf16": bf16,
        "fp16": False,
    }
    peft_config = (
        LoraConfig(
            r=recipe.lora_rank,
            lora_alpha=recipe.lora_alpha or 2 * recipe.lora_rank,
            lora_dropout=0.0,
            target_modules="all-linear",
            task_type="CAUSAL_LM",
        )
        if recipe.lora
        else None
    )
    data = Dataset.from_list(rows)
    if method == "sft":
        sft = SFTConfig(**common, completion_only_loss=recipe.completion_only_loss)
        return SFTTrainer(
            model=model, args=sft, train_dataset=data, processing_class=tokenizer, peft_config=peft_config
        )
    dpo = DPOConfig(**common, beta=recipe.beta)
    return DPOTrainer(
        model=model, args=dpo, train_dataset=data, processing_class=tokenizer, peft_config=peft_config
    )


def _save_model(trainer: Any, tokenizer: Any, base_dtype: Any, lora: bool, out: Path) -> None:
    """The trained weights (LoRA merged in, cast to the base model's dtype) and the tokenizer with
    its chat template, written beside and moved into ``out`` (``config.json`` last)."""
    model = trainer.model.merge_and_unload() if lora else trainer.model
    model = model.to(device="cpu", dtype=base_dtype)
    model.config.use_cache = True  # the trainer turns it off for gradient checkpointing
    tokenizer.init_kwargs.pop("local_files_only", None)  # how we loaded it, not part of it
    staging = out / f".model.{os.getpid()}.tmp"
    shutil.rmtree(staging, ignore_errors=True)
    try:
        model.save_pretrained(str(staging))
        tokenizer.save_pretrained(str(staging))
        names = sorted(p.name for p in staging.iterdir())
        for name in [n for n in names if n != "config.json"] + ["config.json"]:
            os.replace(staging / name, out / name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def train(
    method: Method,
    build_dir: Path,
    model: str,
    out: Path,
    recipe: TrainRecipe,
    *,
    resume: bool = False,
    on_step: Callable[[TrainStep], None] | None = None,
) -> TrainResult:
    """Train ``model`` (``bundled`` or a local folder) on the build with ``method``; write the
    model folder ``out``. Every check is made before any work, each failure an InputError."""
    from agentwrite.llm.bundled import BUNDLED_ALIASES
    from agentwrite.llm.vllm_server import resolve_model

    started = time.monotonic()
    require_train_extra()
    build_dir, out = Path(build_dir), Path(out)
    recipe = recipe.resolved(method)
    device = pick_device(recipe.device)
    rows = build_rows(method, build_dir)
    base, name = resolve_model(model)  # the bundled model is converted from its GGUF on first use
    description = run_description(method, name if model in BUNDLED_ALIASES else str(base), build_dir, recipe)
    resuming = _check_out(out, resume, description)

    from transformers import AutoConfig, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(base), local_files_only=True)
    if not getattr(tokenizer, "chat_template", None):
        raise InputError(f"the tokenizer of {base} has no chat template; the rows are conversations")
    fitted: Fitted = fit_rows(
        rows, chat_token_counter(tokenizer), recipe.max_length, recipe.too_long, build_dir
    )
    base_dtype = AutoConfig.from_pretrained(str(base), local_files_only=True).dtype
    log = out / LOG_FILE

    out.mkdir(parents=True, exist_ok=True)
    checkpoint = None
    if resuming:
        from transformers.trainer_utils import get_last_checkpoint

        folder = out / CHECKPOINTS
        checkpoint = get_last_checkpoint(str(folder)) if folder.is_dir() else None
        done = int(Path(checkpoint).name.rsplit("-", 1)[1]) if checkpoint else 0
        kept = _log_lines_up_to(log, done)
        write_text(log, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in kept))
        with log.open("a", encoding="utf-8") as handle:
            append_jsonl(handle, {"event": "resume", "from_step": done})
    else:
        write_text(out / RECIPE_FILE, yaml.safe_dump(description, sort_keys=False, allow_unicode=True))
        with log.open("w", encoding="utf-8") as handle:
            append_jsonl(handle, {
                "event": "data", "method": method, "rows": fitted.total, "kept": len(fitted.rows),
                "skipped_too_long": len(fitted.skipped), "skipped_ids": fitted.skipped,
                "max_length": recipe.max_length, "longest_kept": fitted.longest, "device": device,
            })  # fmt: skip

    with _no_library_bars():
        trainer = make_trainer(method, base, fitted.rows, tokenizer, recipe, device, out / CHECKPOINTS)
        from transformers import PrinterCallback

        trainer.remove_callback(PrinterCallback)  # the step lines go to the log and on_step instead
        trainer.add_callback(_make_journal(log, on_step))
        outcome = trainer.train(resume_from_checkpoint=checkpoint)
        _save_model(trainer, tokenizer, base_dtype, recipe.lora, out)

    steps = [r for r in read_jsonl(log) if r.get("event") == "step"]
    final_loss = steps[-1]["loss"] if steps else None
    seconds = round(time.monotonic() - started, 3)
    with log.open("a", encoding="utf-8") as handle:
        append_jsonl(handle, {
            "event": "done", "steps": outcome.global_step, "train_loss": outcome.training_loss,
            "final_loss": final_loss, "seconds": seconds,
        })  # fmt: skip
    write_text(out / CARD, model_card(out.name, description, fitted, steps, outcome.global_step))
    shutil.rmtree(out / CHECKPOINTS, ignore_errors=True)
    return TrainResult(out, outcome.global_step, len(fitted.rows), len(fitted.skipped), final_loss, seconds)
