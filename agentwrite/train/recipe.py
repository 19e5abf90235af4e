"""Training recipes: how ``agentwrite train`` trains, typed, with every default here.

A recipe file is YAML with any of the fields below::

    epochs: 2
    lora_rank: 8
    max_length: 4096
    learning_rate: 1.0e-4

Precedence, lowest first: the defaults < the recipe file < command-line flags. The model folder
written gets the recipe as it was used (``training_recipe.yaml``), learning rate filled in.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from agentwrite.errors import InputError

Method = Literal["sft", "dpo"]

DEFAULT_LEARNING_RATES: dict[tuple[str, bool], float] = {
    ("sft", True): 2e-4,
    ("sft", False): 2e-5,
    ("dpo", True): 5e-5,
    ("dpo", False): 1e-6,
}
"""The learning rate when the recipe names none, by (method, LoRA): LoRA adapters start from zero
and take a larger step than the full weights; DPO takes smaller ones than SFT."""


class TrainRecipe(BaseModel):
    """The settings of one training run (SFT or DPO)."""

    model_config = ConfigDict(extra="forbid")

    epochs: float = Field(1.0, gt=0, description="Passes over the rows.")
    max_steps: int | None = Field(
        None, ge=1, description="Stop after this many optimizer steps (wins over epochs)."
    )
    learning_rate: float | None = Field(
        None,
        gt=0,
        description="Peak learning rate, decaying linearly to 0 (default: 2e-4 for SFT with LoRA, 2e-5 "
        "without; 5e-5 for DPO with LoRA, 1e-6 without).",
    )
    lora: bool = Field(
        True,
        description="Train LoRA adapters on every linear layer, merged in at the end (off: all weights).",
    )
    lora_rank: int = Field(16, ge=1, description="Rank of the LoRA adapters.")
    lora_alpha: int | None = Field(None, ge=1, description="LoRA scaling alpha (default: twice the rank).")
    max_length: int = Field(
        2048, ge=16, description="Longest row in tokens: prompt and answer with the chat template applied."
    )
    too_long: Literal["skip", "fail"] = Field(
        "skip",
        description="A row longer than max_length: skip it (counted in the log and the card) or stop "
        "before training.",
    )
    completion_only_loss: bool = Field(
        True, description="SFT: the loss on the answer's tokens only (off: on the prompt's too)."
    )
    beta: float = Field(0.1, gt=0, description="DPO: how far the model may move from the reference model.")
    seed: int = Field(0, description="Seed of the adapters' initialisation and the row order.")
    batch_size: int = Field(1, ge=1, description="Rows per step on the device.")
    gradient_accumulation: int = Field(
        8, ge=1, description="Steps whose gradients add up to one optimizer step."
    )
    gradient_checkpointing: bool = Field(
        True, description="Recompute activations in the backward pass: less memory, about a third slower."
    )
    save_steps: int = Field(
        25, ge=1, description="Save a checkpoint, for --resume, every this many optimizer steps."
    )
    device: Literal["auto", "cpu", "cuda"] = Field(
        "auto", description="Where to train: auto takes a CUDA GPU when torch sees one, else the CPU."
    )

    def resolved(self, method: Method) -> TrainRecipe:
        """The recipe with the defaults that depend on the method and LoRA filled in.

        >>> TrainRecipe().resolved("sft").learning_rate, TrainRecipe(lora=False).resolved("dpo").learning_rate
        (0.0002, 1e-06)
        >>> TrainRecipe(lora_rank=4).resolved("sft").lora_alpha
        8
        """
        return self.model_copy(
            update={
                "learning_rate": self.learning_rate or DEFAULT_LEARNING_RATES[(method, self.lora)],
                "lora_alpha": self.lora_alpha or 2 * self.lora_rank,
            }
        )


def _first_problem(exc: ValidationError) -> str:
    first = exc.errors()[0]
    return f"{'.'.join(str(p) for p in first['loc'])}: {first['msg']}"


def load_train_recipe(path: Path | None, flags: Mapping[str, Any] | None = None) -> TrainRecipe:
    """The recipe file (None: the defaults) with ``flags`` over it (None means not given).
    InputError, in one line, for a file that cannot be read or a value out of range.

    >>> load_train_recipe(None, {"epochs": 3, "seed": None}).epochs
    3.0
    >>> load_train_recipe(None, {"too_long": "cut"})
    Traceback (most recent call last):
    ...
    agentwrite.errors.InputError: invalid training setting too_long: Input should be 'skip' or 'fail'
    """
    data: Any = {}
    if path is not None:
        try:
            data = yaml.safe_load(Path(path).read_text("utf-8")) or {}
        except OSError as exc:
            raise InputError(f"cannot read recipe {path}: {exc.strerror or exc}") from None
        except yaml.YAMLError as exc:
            raise InputError(f"recipe {path} is not valid YAML: {str(exc).splitlines()[0]}") from None
        if not isinstance(data, dict):
            raise InputError(f"recipe {path} is not a mapping of settings")
        try:
            TrainRecipe.model_validate(data)
        except ValidationError as exc:
            raise InputError(f"recipe {path}: {_first_problem(exc)}") from None
    data = {**data, **{k: v for k, v in (flags or {}).items() if v is not None}}
    try:
        return TrainRecipe.model_validate(data)
    except ValidationError as exc:
        raise InputError(f"invalid training setting {_first_problem(exc)}") from None
