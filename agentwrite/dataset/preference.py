"""A build's preference pairs (``pairs.jsonl``) and their form for preference training.

``dataset build --pairs`` writes one line per pair (``agentwrite.dataset.pairs`` makes them):
where a section check asked the writer for another candidate, the kept section is ``chosen``
and the weakest candidate ``rejected``, with the exact request messages as the ``prompt``
and their ``SectionScores`` (``kind: section``); ``--document-pairs`` adds ``kind: document``
pairs, the instruction as the only user message and whole documents::

    {"id": "doc-01#s3", "instruction_id": "doc-01", "kind": "section",
     "prompt": [{"role": "system", "content": "..."}, {"role": "user", "content": "..."}],
     "chosen": "...", "rejected": "...",
     "chosen_scores": {"score": 0.91, "problems": [], ...},
     "rejected_scores": {"score": 0.42, "problems": ["talk", "off_topic"], ...},
     "margin": 0.49, "separated_by": ["talk", "off_topic"]}

``to_dpo`` turns a pair into TRL's conversational preference row (``prompt`` a list of
messages, ``chosen`` and ``rejected`` one assistant message each), which ``DPOTrainer``
takes as it is.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from agentwrite.errors import InputError
from agentwrite.files import read_jsonl

PAIRS = "pairs.jsonl"


class Message(BaseModel):
    """One chat message of a pair's prompt."""

    model_config = ConfigDict(extra="forbid")

    role: Literal["system", "user", "assistant"]
    content: str


class PreferencePair(BaseModel):
    """One line of ``pairs.jsonl``."""

    id: str = Field(min_length=1)
    instruction_id: str = Field(min_length=1)
    kind: Literal["section", "document"]
    prompt: list[Message] = Field(min_length=1)
    chosen: str = Field(min_length=1)
    rejected: str = Field(min_length=1)
    chosen_scores: dict[str, Any] = Field(default_factory=dict)
    rejected_scores: dict[str, Any] = Field(default_factory=dict)
    margin: float
    separated_by: list[str] = Field(default_factory=list)


def no_pairs(build_dir: Path) -> str:
    """Why a build without pairs is neither exported for nor trained with preference training."""
    return (
        f"{build_dir} has no preference pairs ({PAIRS} missing or empty): "
        "build with 'agentwrite dataset build --pairs'"
    )


def load_pairs(build_dir: Path) -> list[PreferencePair]:
    """The pairs of a build in file order, none when it has no ``pairs.jsonl``. InputError (one
    line) when a line is not a pair; a last line a crash tore is left out, as ``read_jsonl`` does."""
    path = Path(build_dir) / PAIRS
    pairs = []
    for number, record in enumerate(read_jsonl(path), start=1):
        try:
            pairs.append(PreferencePair.model_validate(record))
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "line"
            raise InputError(f"{path} line {number}: {where}: {first['msg']}") from None
    return pairs


def read_pairs(build_dir: Path) -> list[PreferencePair]:
    """The pairs of a build folder; InputError (one line) when it is no folder or has none."""
    if not Path(build_dir).is_dir():
        raise InputError(f"no such folder: {build_dir}")
    pairs = load_pairs(build_dir)
    if not pairs:
        raise InputError(no_pairs(build_dir))
    return pairs


def to_dpo(pair: PreferencePair) -> dict[str, Any]:
    """A pair as TRL's conversational preference row, with its id.

    >>> pair = PreferencePair(id="d#s1", instruction_id="d", kind="section", margin=0.5,
    ...     prompt=[{"role": "user", "content": "Q"}], chosen="good", rejected="bad")
    >>> to_dpo(pair)["chosen"], to_dpo(pair)["prompt"]
    ([{'role': 'assistant', 'content': 'good'}], [{'role': 'user', 'content': 'Q'}])
    """
    return {
        "id": pair.id,
        "prompt": [m.model_dump() for m in pair.prompt],
        "chosen": [{"role": "assistant", "content": pair.chosen}],
        "rejected": [{"role": "assistant", "content": pair.rejected}],
    }
