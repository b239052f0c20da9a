"""The measurement regime: who sees an agent's numbers and what is done with them.

Adherence rules (one rule engine for the end-of-day review and the real-time tracker),
monitoring (recorded and scored calls, listen-in), targets, league tables, and the
supervisor's actions (chases, warnings, coaching), with the agents' documented responses.
"""
