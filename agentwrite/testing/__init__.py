"""Test doubles for code that drives agentwrite, and for agentwrite's own tests.

None needs a GPU, a model or the network beyond loopback:

- ``scripted_model.ScriptedModel``: a chat model in process that replays scripted replies
  and records every call;
- ``openai_server.OpenAIServer``: an OpenAI-compatible HTTP server on 127.0.0.1 whose
  answers come from a handler (``writer_handler`` writes like a cooperative model);
- ``fault_proxy.FaultProxy``: a proxy in front of a server that injects seeded faults
  (resets, stalls, 5xx, torn streams).
"""
