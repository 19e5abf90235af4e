"""Reliability drills, shared by the tests (which assert on them) and ``eval/reliability.py``
(which tabulates them). Each drill returns a record of what was injected and what survived.

- ``fault_run``: one document through the fault proxy, in process.
- ``kill_chain``: a CLI command (``write`` or ``dataset build``) run in forked children that
  are killed with SIGKILL at seeded points and restarted until it finishes.

They live in ``fault_drill``, ``kill_chain`` and ``kill_drills``; this module keeps their
names importable from one place.
"""

from agentwrite.testing.fault_drill import BRIEF, FaultRun, fault_run, fault_settings
from agentwrite.testing.kill_chain import (
    Aim,
    Chain,
    Kill,
    KillPlan,
    Pacer,
    RunProbes,
    Zygote,
    kill_chain,
    zygote,
)
from agentwrite.testing.kill_drills import (
    INSTRUCTIONS,
    PARALLEL_AIMS,
    SECTIONS,
    SEQUENTIAL_AIMS,
    BuildProbes,
    DocumentProbes,
    KillDrill,
    dataset_kill_drill,
    read_lines,
    write_kill_drill,
)

__all__ = [
    "BRIEF",
    "INSTRUCTIONS",
    "PARALLEL_AIMS",
    "SECTIONS",
    "SEQUENTIAL_AIMS",
    "Aim",
    "BuildProbes",
    "Chain",
    "DocumentProbes",
    "FaultRun",
    "Kill",
    "KillDrill",
    "KillPlan",
    "Pacer",
    "RunProbes",
    "Zygote",
    "dataset_kill_drill",
    "fault_run",
    "fault_settings",
    "kill_chain",
    "read_lines",
    "write_kill_drill",
    "zygote",
]
