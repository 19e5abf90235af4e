"""agentwrite: plan-then-write long documents with language models.

The public names are imported on first use (PEP 562), so that ``import agentwrite`` and
the commands that need no workflow (``--help``, ``serve``, ``dataset stats``...) do not pay
for importing LangGraph.

>>> import agentwrite
>>> callable(agentwrite.write) and callable(agentwrite.awrite)
True
>>> agentwrite.__all__ == sorted(agentwrite._HOMES)  # each public name has its home
True
>>> agentwrite.RunContext is agentwrite.WriteContext  # an old name still answers
True
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from agentwrite.domain import Brief, Document, Plan, Section, SectionPlan, Usage
    from agentwrite.errors import AgentwriteError
    from agentwrite.graph.build import WriteGraph, build_graph
    from agentwrite.graph.context import WriteContext
    from agentwrite.graph.state import WriteState
    from agentwrite.runner import aplan, awrite, write
    from agentwrite.settings import Settings, load_settings

_HOMES = {
    "AgentwriteError": "agentwrite.errors",
    "Brief": "agentwrite.domain",
    "Document": "agentwrite.domain",
    "Plan": "agentwrite.domain",
    "Section": "agentwrite.domain",
    "SectionPlan": "agentwrite.domain",
    "Settings": "agentwrite.settings",
    "Usage": "agentwrite.domain",
    "WriteContext": "agentwrite.graph.context",
    "WriteGraph": "agentwrite.graph.build",
    "WriteState": "agentwrite.graph.state",
    "aplan": "agentwrite.runner",
    "awrite": "agentwrite.runner",
    "build_graph": "agentwrite.graph.build",
    "load_settings": "agentwrite.settings",
    "write": "agentwrite.runner",
}
"""Each public name and the module that defines it."""
_RENAMED = {"RunContext": "WriteContext"}
"""Old public names and their new ones, still answered so that code written before works."""

__all__ = [
    "AgentwriteError",
    "Brief",
    "Document",
    "Plan",
    "Section",
    "SectionPlan",
    "Settings",
    "Usage",
    "WriteContext",
    "WriteGraph",
    "WriteState",
    "aplan",
    "awrite",
    "build_graph",
    "load_settings",
    "write",
]
__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    """A public name, imported from its module the first time it is asked for."""
    new = _RENAMED.get(name, name)
    home = _HOMES.get(new)
    if home is None:
        raise AttributeError(f"module 'agentwrite' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), new)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
