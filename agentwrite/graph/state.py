"""The graph's state: a TypedDict whose only merged channel is the written sections."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, NotRequired, TypedDict

from agentwrite.domain import Brief, Plan, Section, Usage
from agentwrite.material.read import Chunk


def merge_sections(done: list[Section], new: list[Section]) -> list[Section]:
    """Reducer: add newly written sections, one per index, kept in index order.

    >>> a = Section(index=1, title="B", text="b", target_words=1, finish_reason="stop")
    >>> b = Section(index=0, title="A", text="a", target_words=1, finish_reason="stop")
    >>> [s.index for s in merge_sections([a], [b])]
    [0, 1]
    """
    by_index = {s.index: s for s in done}
    by_index.update({s.index: s for s in new})
    return [by_index[i] for i in sorted(by_index)]


class WriteState(TypedDict, total=False):
    """Everything a run knows, checkpointed after every step."""

    brief: Brief
    chunks: list[Chunk]
    plan: Plan  # absent until the plan node has made or checked it
    plan_source: str
    plan_usage: Usage
    plan_repairs: list[str]
    plan_accepted: bool
    review_error: str
    sketches: list[str]
    sketch_usage: Usage
    sections: Annotated[list[Section], merge_sections]
    to_revise: list[int]  # the indices of the sections the revise pass rewrites
    markdown: str


class SectionTask(TypedDict):
    """What one fanned-out section writer receives (parallel and sketch modes)."""

    brief: Brief
    plan: Plan
    sketches: list[str]
    index: int
    chunks: NotRequired[list[Chunk]]


def state_chunks(state: Mapping[str, Any]) -> list[Chunk]:
    """The user's material in a state or a task (none when it has none), read into chunks
    when it came as JSON.

    >>> as_json = {"chunks": [{"id": "a#1", "source": "a", "text": "x"}]}
    >>> state_chunks({}), [c.id for c in state_chunks(as_json)]
    ([], ['a#1'])
    """
    return [Chunk.model_validate(c) for c in state.get("chunks") or []]
