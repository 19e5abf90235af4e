"""Wiring only: plan → write (sequential loop, or fan-out) → stitch."""

from __future__ import annotations

from typing import Any

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import END, START, StateGraph

from agentwrite.domain import MAX_SECTIONS, WriteMode
from agentwrite.graph.context import RunContext
from agentwrite.graph.nodes.fanout import fan_out, write_section_node
from agentwrite.graph.nodes.plan import plan_node
from agentwrite.graph.nodes.sequential import after_section, write_next_node
from agentwrite.graph.nodes.sketch import sketch_node
from agentwrite.graph.nodes.stitch import stitch_node
from agentwrite.graph.state import SectionTask, WriteState

RECURSION_LIMIT = MAX_SECTIONS + 16
"""Supersteps a run may take: one per section in sequential mode, plus a few."""


def build_graph(mode: WriteMode, checkpointer: BaseCheckpointSaver[Any] | None = None) -> Any:
    """The compiled workflow for ``mode``, checkpointed when a saver is given."""
    graph = StateGraph(WriteState, context_schema=RunContext)
    graph.add_node("plan", plan_node)
    graph.add_node("stitch", stitch_node)
    graph.add_edge(START, "plan")
    if mode == "sequential":
        graph.add_node("write_next", write_next_node)
        graph.add_conditional_edges("plan", after_section, ["write_next", "stitch"])
        graph.add_conditional_edges("write_next", after_section, ["write_next", "stitch"])
    else:
        graph.add_node("write_section", write_section_node, input_schema=SectionTask)  # type: ignore[arg-type]
        graph.add_edge("write_section", "stitch")
        if mode == "sketch":
            graph.add_node("sketch", sketch_node)
            graph.add_edge("plan", "sketch")
            graph.add_conditional_edges("sketch", fan_out, ["write_section", "stitch"])
        else:
            graph.add_conditional_edges("plan", fan_out, ["write_section", "stitch"])
    graph.add_edge("stitch", END)
    return graph.compile(checkpointer=checkpointer)
