"""The models and what it takes to talk to them: one protocol (``ChatModel``, in ``base``) with
its backends (an OpenAI-compatible server such as vLLM, several of them behind one pool with a
fair bound on requests, the in-process model), how each role samples (``decoding``), retries
and structured answers; the bundled SmolLM2 weights (``bundled``), defaults that suit a known
model (``profiles``), the vLLM server that ``agentwrite serve`` and ``--serve`` start
(``vllm_server``), and the context window: how many tokens a prompt takes and how many that
leaves for the answer (``context_window``)."""

from agentwrite.llm.base import ChatModel, Completion, GenerationParams, Message

__all__ = ["ChatModel", "Completion", "GenerationParams", "Message"]
