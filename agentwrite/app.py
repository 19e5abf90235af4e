"""The workflow as a LangGraph server serves it (``langgraph dev``, ``langgraph.json``).

A run's context on the server is JSON (``ServeContext``): settings for this run over the
server's own (defaults < config file named by ``AGENTWRITE_CONFIG`` < ``AGENTWRITE_*``
environment < the run's ``settings``). For each run the server calls ``graph``, which makes
the model from those settings, binds a ``RunContext`` to the nodes, and closes the model when
the run ends; no live model is held between runs. Input: ``{"brief": {"instruction": ...,
"target_words": ...}}`` (and a ``plan`` to skip the planner); progress events arrive on the
custom stream as the JSON of ``agentwrite.events``.
"""

from __future__ import annotations

import inspect
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from langgraph.graph import StateGraph
from langgraph.graph.state import CompiledStateGraph
from langgraph.runtime import Runtime
from langgraph_sdk.runtime import ServerRuntime

from agentwrite.graph.build import Wrap, wire
from agentwrite.graph.context import RunContext
from agentwrite.graph.state import WriteState
from agentwrite.runner import run_context
from agentwrite.settings import Settings, load_settings


@dataclass
class ServeContext:
    """A run's context on the server."""

    settings: dict[str, Any] = field(default_factory=dict)
    """Settings for this run, by their names in ``agentwrite.settings`` (``mode``, ``base_url``,
    ``model``, ``max_context``, ``decoding``...)."""
    review: bool = False
    """Stop after the plan for a review (``agentwrite.graph.nodes.review``); a run that resumes
    the review must pass it too."""


ServedGraph = CompiledStateGraph[WriteState, ServeContext, WriteState, WriteState]


def served_graph(settings: Settings, ctx: RunContext | None, *, review: bool = False) -> ServedGraph:
    """The workflow for ``settings.mode`` with ``ctx`` bound to every node (None: a graph the
    server only reads, for its schemas and a thread's state)."""
    graph = StateGraph(WriteState, context_schema=ServeContext)
    wire(graph, settings.mode, review=review, node=_bound(ctx) if ctx is not None else lambda f: f)
    return graph.compile()


def _bound(ctx: RunContext) -> Wrap:
    """Node functions that see ``ctx`` as their runtime's context, whatever the run passed."""

    def wrap(node: Any) -> Any:
        async def bound(state: Any, runtime: Runtime[Any]) -> Any:
            update = node(state, runtime.override(context=ctx))
            return await update if inspect.isawaitable(update) else update

        return bound

    return wrap


@asynccontextmanager
async def graph(runtime: ServerRuntime[ServeContext]) -> AsyncIterator[ServedGraph]:
    """The graph factory ``langgraph.json`` names: a graph for each run, its model made from
    the run's settings and closed when the run ends."""
    run = runtime.execution_runtime
    context = _context(run.context if run is not None else None)
    settings = _settings(context)
    if run is None:  # a read: the review node is there, so that a thread stopped at it reads right
        yield served_graph(settings, None, review=True)
        return
    async with run_context(settings, None, stream_text=True) as ctx:
        yield served_graph(settings, ctx, review=context.review)


def _context(given: ServeContext | dict[str, Any] | None) -> ServeContext:
    """A run's context as the server passes it to the factory (its JSON, as the client sent it)."""
    if isinstance(given, ServeContext):
        return given
    return ServeContext(**(given or {}))


def _settings(context: ServeContext) -> Settings:
    """The run's settings: the server's (``AGENTWRITE_CONFIG``, ``AGENTWRITE_*``) with the
    run's own over them."""
    config = os.environ.get("AGENTWRITE_CONFIG")
    return load_settings(Path(config) if config else None, context.settings)
