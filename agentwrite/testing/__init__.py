"""Test doubles for code that drives agentwrite, and for agentwrite's own tests.

None needs a GPU, a model or the network beyond loopback:

- ``scripted_model.ScriptedModel``: a chat model in process that replays scripted replies
  and records every call;
- ``openai_server.OpenAIServer``: an OpenAI-compatible HTTP server on 127.0.0.1 whose
  answers come from a handler, a ``replies.Reply`` each (``fake_writer.writer_handler``
  writes like a cooperative model);
- ``schema_answers.schema_answer``: a valid value for any JSON schema (what the fakes send
  for a structured-output request, whatever the prompt says);
- ``fault_proxy.FaultProxy``: a proxy in front of a server that injects seeded faults
  (resets, stalls, 5xx, torn streams).

The reliability drills are built on them:

- ``fault_drill.fault_run``, ``kill_chain.kill_chain`` (a ``KillPlan`` run, probed through
  ``RunProbes``) and ``kill_drills``, the two kill drills built on it; the tests assert on
  them and ``eval/reliability.py`` tabulates them (``drills`` names them all);
- ``cli_zygote``: a parent that has imported the CLI and forks one child per run, so that
  the kill drills start the command line quickly;
- ``hostile_inputs.CASES``: inputs that every command and the LangGraph app must refuse
  with one line, no traceback, no model call, nothing written and no secret shown;
  ``hostile_drill.try_case`` tries one and says what went wrong.
"""
