"""Measurement after the run.

The logs as tables, adherence and its exceptions as a WFM system computes them, and every
KPI. Nothing here changes a run; it reads what the engine, the regime and people logged.
"""
