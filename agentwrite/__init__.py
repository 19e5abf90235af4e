"""agentwrite: plan-then-write long documents with language models."""

from agentwrite.domain import Brief, Document, Plan, Section, SectionPlan, Usage

__all__ = ["Brief", "Document", "Plan", "Section", "SectionPlan", "Usage"]
__version__ = "0.1.0"
