"""The workflow as a LangGraph graph: its checkpointed state (``state``), the runtime context
every node gets (``context``: model, settings, window, token gauge), the wiring of plan →
review → write → revise → stitch for the three modes (``build``), one node per file in
``nodes/``, the planner's and sketcher's requests asked again until they parse
(``plan_request``), and the same graph served to ``langgraph dev`` through
``langgraph.json`` (``app``). Nothing here imports the command line; the runner
(``agentwrite.runner``) drives the graph for one document."""
