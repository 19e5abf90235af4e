"""Wiring only: plan → write (sequential loop, or fan-out) → revise (when on) → stitch."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph

from agentwrite.domain import MAX_SECTIONS, WriteMode
from agentwrite.graph.context import WriteContext
from agentwrite.graph.nodes.fanout import fan_out, write_section_node
from agentwrite.graph.nodes.plan import plan_node
from agentwrite.graph.nodes.review import review_node, until_accepted
from agentwrite.graph.nodes.revise import RevisionTask, revise_node, revise_section_node, revise_tasks
from agentwrite.graph.nodes.sequential import after_section, write_next_node
from agentwrite.graph.nodes.sketch import sketch_node
from agentwrite.graph.nodes.stitch import stitch_node
from agentwrite.graph.state import SectionTask, WriteState

RECURSION_LIMIT = MAX_SECTIONS + 16
"""Supersteps a run may take: one per section in sequential mode, plus a few."""

WriteGraph = CompiledStateGraph[WriteState, WriteContext, WriteState, WriteState]
"""The compiled workflow: ``WriteState`` in and out, a ``WriteContext`` for its nodes."""


Wrap = Callable[[Any], Any]
"""What a graph does to each node function before adding it (``wire``'s ``node``)."""


def build_graph(
    mode: WriteMode, checkpointer: BaseCheckpointSaver[Any] | None = None, *, review: bool = False
) -> WriteGraph:
    """The compiled workflow for ``mode``, checkpointed when a saver is given.

    Run it with a ``WriteContext`` (``context=``); its nodes write progress events as JSON
    objects to the custom stream (``stream_mode="custom"``, see ``agentwrite.events``). With
    ``review`` the run stops after the plan with an interrupt for the person to accept, edit
    or replace it (``agentwrite.graph.nodes.review``; it needs a checkpointer).
    """
    graph = StateGraph(WriteState, context_schema=WriteContext)
    wire(graph, mode, review=review)
    return graph.compile(checkpointer=checkpointer)


def wire(
    graph: StateGraph[WriteState, Any, Any, Any],
    mode: WriteMode,
    *,
    review: bool = False,
    node: Wrap = lambda f: f,
) -> None:
    """Add the nodes and edges of ``mode`` (with the plan review or not) to ``graph``, each
    node function passed through ``node`` (a server binds its context to them: see
    ``agentwrite.graph.app``)."""
    graph.add_node("plan", node(plan_node))
    graph.add_node("revise", node(revise_node))
    graph.add_node("revise_section", node(revise_section_node), input_schema=RevisionTask)
    graph.add_node("stitch", node(stitch_node))
    graph.add_edge(START, "plan")
    graph.add_conditional_edges("revise", revise_tasks, ["revise_section", "stitch"])
    graph.add_edge("revise_section", "stitch")
    if review:
        graph.add_node("review", node(review_node))
        graph.add_edge("plan", "review")

    def after_plan(route: Callable[[WriteState], Any], targets: list[str]) -> None:
        if review:
            graph.add_conditional_edges("review", until_accepted(route), [*targets, "review"])
        else:
            graph.add_conditional_edges("plan", route, targets)

    if mode == "sequential":
        graph.add_node("write_next", node(write_next_node))
        after_plan(after_section, ["write_next", "revise"])
        graph.add_conditional_edges("write_next", after_section, ["write_next", "revise"])
    else:
        graph.add_node("write_section", node(write_section_node), input_schema=SectionTask)
        graph.add_edge("write_section", "revise")
        if mode == "sketch":
            graph.add_node("sketch", node(sketch_node))
            after_plan(lambda _: "sketch", ["sketch"])
            graph.add_conditional_edges("sketch", fan_out, ["write_section", "revise"])
        else:
            after_plan(fan_out, ["write_section", "revise"])
    graph.add_edge("stitch", END)
