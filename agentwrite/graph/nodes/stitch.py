"""The last step: one Markdown document from the plan and the written sections."""

from __future__ import annotations

from typing import Any

from agentwrite.graph.state import WriteState
from agentwrite.markdown import stitch


def stitch_node(state: WriteState) -> dict[str, Any]:
    """Graph node: title, then each section under its planned heading."""
    plan = state["plan"]
    assert plan is not None
    sections = state.get("sections", [])
    if [s.index for s in sections] != list(range(len(plan.sections))):
        raise RuntimeError("stitch reached with sections missing")
    return {"markdown": stitch(plan.title, [(plan.sections[s.index].title, s.text) for s in sections])}
