"""agentwrite: plan-then-write long documents with language models.

>>> import agentwrite
>>> callable(agentwrite.write) and callable(agentwrite.awrite)
True
"""

from agentwrite.domain import Brief, Document, Plan, Section, SectionPlan, Usage
from agentwrite.runner import aplan, awrite, write

__all__ = ["Brief", "Document", "Plan", "Section", "SectionPlan", "Usage", "aplan", "awrite", "write"]
__version__ = "0.1.0"
