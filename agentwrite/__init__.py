"""agentwrite: plan-then-write long documents with language models.

>>> import agentwrite
>>> callable(agentwrite.write) and callable(agentwrite.awrite)
True
"""

from agentwrite.domain import Brief, Document, Plan, Section, SectionPlan, Usage
from agentwrite.graph.build import WriteGraph, build_graph
from agentwrite.graph.context import RunContext
from agentwrite.graph.state import WriteState
from agentwrite.runner import aplan, awrite, write

__all__ = [
    "Brief",
    "Document",
    "Plan",
    "RunContext",
    "Section",
    "SectionPlan",
    "Usage",
    "WriteGraph",
    "WriteState",
    "aplan",
    "awrite",
    "build_graph",
    "write",
]
__version__ = "0.1.0"
