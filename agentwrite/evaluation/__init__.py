"""Benchmarking long outputs: suites, runs, LongBench-Write scores, coherence metrics, reports."""
