"""Model backends behind one protocol (``ChatModel``)."""

from agentwrite.llm.base import ChatModel, Completion, GenerationParams, Message

__all__ = ["ChatModel", "Completion", "GenerationParams", "Message"]
