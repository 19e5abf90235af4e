"""The old import path of ``agentwrite.evaluation.predict``, kept because eval/README.md told
users to call ``agentwrite.evaluation.run.run_suite``; new code imports ``predict``.

>>> import agentwrite.evaluation.predict
>>> run_suite is agentwrite.evaluation.predict.run_suite
True
"""

from agentwrite.evaluation.predict import SuiteProgress, arun_suite, run_suite

__all__ = ["SuiteProgress", "arun_suite", "run_suite"]
