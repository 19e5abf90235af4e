"""Every pattern the writer runs on model text ends in reasonable time on degenerate lines.

A model's text reaches these patterns as it streams: one pattern that backtracks
exponentially on a line the model happens to write stalls the writer for good. Two did, on
lines of a brief-suite run (eval/results/brief_cpu/agent_nochecks): a run of 295 full-width
digits (the talk detector's numbering fragment) and a 451-character "[xixia_yuanjie_..."
with no closing bracket (its placeholder pattern). Each pattern here is run on each line
under a CPU-time alarm; a pattern that has not answered within ``LIMIT_S`` seconds of this
process's CPU time is named in the failure. CPU time, not wall time: in a CI run with Ray and
vLLM beside it, a 27 ms search was named after 5 s of a wall-clock alarm.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
import signal

import pytest

LIMIT_S = 5
ROOMS = ("agentwrite.writing", "agentwrite.plans", "agentwrite.material")
SINGLE = (
    "agentwrite.text_stats",
    "agentwrite.writing.markdown",
    "agentwrite.writing.loop_guard",
    "agentwrite.length",
    "agentwrite.evaluation.brief_figures",
)
DEGENERATE = [
    "２１００１０" + "２" * 290 + " 厌挙武劲",  # read in agent_nochecks
    "[" + "_".join(["xixia", "yuanjie", "mouzong", "xiangan"] * 25),  # read in agent_nochecks
    "1" * 300 + "x",
    "." * 40_000 + "x",  # a degenerate run of dots: text_stats.SENTENCE_END took 4.8 s on 20,000
    "1. " * 200 + "x",
    "iv" * 200 + "x",
    "a " * 300 + "!",
    "Title " * 200 + "?",
    "Here is the " + "very " * 300,
    "[" * 300,
    "(" * 300,
    "#" * 300 + " x",
    "*" * 600,
    "字" * 300 + "；" * 300,
    "1,000 " * 200 + "words x",
    "a-b " * 200 + "?",
    "http://" + "a/" * 200,
]


def patterns() -> list[tuple[str, re.Pattern[str]]]:
    names = list(SINGLE)
    for room in ROOMS:
        package = importlib.import_module(room)
        names.append(room)
        if hasattr(package, "__path__"):
            names += [m.name for m in pkgutil.walk_packages(package.__path__, f"{room}.")]
    found: dict[int, tuple[str, re.Pattern[str]]] = {}
    for name in names:
        module = importlib.import_module(name)
        for attribute, value in vars(module).items():
            if isinstance(value, re.Pattern):
                found.setdefault(id(value), (f"{name}.{attribute}", value))
    return list(found.values())


class _Stalled(Exception):
    pass


def _alarm(signum: int, frame: object) -> None:
    raise _Stalled


@pytest.mark.timeout(300)
def test_no_pattern_stalls_on_degenerate_lines() -> None:
    found = patterns()
    assert len(found) > 50 and any(name.endswith("_NUMBERING") for name, _ in found)
    previous = signal.signal(signal.SIGVTALRM, _alarm)
    stalled = []
    try:
        for name, pattern in found:
            for line in DEGENERATE:
                signal.setitimer(signal.ITIMER_VIRTUAL, LIMIT_S)
                try:
                    pattern.search(line)
                    pattern.match(line)
                except _Stalled:
                    stalled.append(f"{name} on {line[:30]!r}")
                finally:
                    signal.setitimer(signal.ITIMER_VIRTUAL, 0)
    finally:
        signal.signal(signal.SIGVTALRM, previous)
    assert not stalled, stalled
