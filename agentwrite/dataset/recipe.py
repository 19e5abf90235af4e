"""Build recipes: a YAML file with the model, sampling, filters and concurrency of a build.

    settings:            # any agentwrite.settings.Settings field
      base_url: http://127.0.0.1:8000/v1
      temperature: 0.8
    concurrency: 16      # documents in flight
    tokenizer: null      # a local tokenizer folder, or bundled, for exact token counts
    pairs: true          # section preference pairs into pairs.jsonl (document_pairs: the
    pair_margin: 0.1     # agent's document against the one-request answer as well)
    filters:             # any agentwrite.dataset.filters.FilterConfig field
      min_length_score: 80

Precedence of a setting, lowest first: its default < the recipe < the environment
(``AGENTWRITE_*``) < command-line flags.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator

from agentwrite.dataset.filters import FilterConfig
from agentwrite.errors import InputError
from agentwrite.files import read_text_file
from agentwrite.settings import Settings, load_settings


class Recipe(BaseModel):
    """What a build needs besides the instructions and the output folder."""

    model_config = ConfigDict(extra="forbid")

    settings: dict[str, Any] = Field(
        default_factory=dict, description="Run settings (model, sampling, mode)."
    )
    concurrency: int = Field(8, ge=1, description="Documents in flight at once.")
    tokenizer: str | None = Field(
        None, description="Tokenizer folder for exact token counts, or 'bundled' (default: an estimate)."
    )
    keep_runs: bool = Field(False, description="Keep each document's run folder after it is committed.")
    pairs: bool = Field(
        False,
        description="Write section preference pairs (pairs.jsonl) where the section checks kept candidates.",
    )
    document_pairs: bool = Field(
        False,
        description="Pair each accepted document with the one-request answer where that fails a filter "
        "(one more request a document).",
    )
    rejected_pairs: bool = Field(
        False,
        description="Also write the section pairs of a document the filters reject, where the pair is "
        "separated by the check the document failed (language, talk, off topic, gibberish, repetition): "
        "its chosen section does what the document did not.",
    )
    pair_margin: float = Field(
        0.1, gt=0, description="Least combined-score difference of a section's kept and weakest candidates."
    )
    filters: FilterConfig = Field(default_factory=FilterConfig)

    @field_validator("rejected_pairs")
    @classmethod
    def _with_pairs(cls, value: bool, info: ValidationInfo) -> bool:
        if value and not info.data.get("pairs"):
            raise ValueError("rejected pairs are section pairs: it needs pairs (--pairs)")
        return value


def load_recipe(path: Path | None) -> Recipe:
    """Read a recipe file (None gives the defaults). Raises InputError on a bad file.

    >>> load_recipe(None).concurrency
    8
    """
    if path is None:
        return Recipe()
    text = read_text_file(Path(path), "recipe")
    try:
        return Recipe.model_validate(yaml.safe_load(text) or {})
    except yaml.YAMLError as exc:
        raise InputError(f"recipe {path} is not valid YAML: {str(exc).splitlines()[0]}") from None
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise InputError(f"recipe {path}: {where}: {first['msg']}") from None


def with_overrides(recipe: Recipe, overrides: Mapping[str, Any], filters: Mapping[str, Any]) -> Recipe:
    """The recipe with flag values put over it (None means not given), validated again.

    >>> with_overrides(Recipe(), {"concurrency": 3}, {"min_words": 10, "max_tokens": None}).filters.min_words
    10
    >>> with_overrides(Recipe(), {"concurrency": 0}, {})
    Traceback (most recent call last):
    ...
    agentwrite.errors.InputError: invalid flag concurrency: Input should be greater than or equal to 1
    """
    data = recipe.model_dump()
    data.update({k: v for k, v in overrides.items() if v is not None})
    data["filters"].update({k: v for k, v in filters.items() if v is not None})
    try:
        return Recipe.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise InputError(f"invalid flag {'.'.join(str(p) for p in first['loc'])}: {first['msg']}") from None


def recipe_settings(recipe: Recipe, flags: Mapping[str, Any] | None = None) -> Settings:
    """Settings from the recipe, overridden by the environment, overridden by ``flags``
    (the recipe's ``settings:`` is the config-file layer of ``load_settings``).

    >>> recipe_settings(Recipe(settings={"temperature": 0.3, "mode": "parallel"}), {"mode": "sketch"}).mode
    'sketch'
    """
    return load_settings(recipe.settings, flags)
