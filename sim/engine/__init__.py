"""The engine: one centre's calls and agents as SimPy processes.

Named random streams (common random numbers), each day's calls sampled with numpy, the
published plan (shifts and planned activities) and each agent-day's deviations, the ACD
(calls arriving, waiting, abandoning, closing), the router that pairs waiting calls with
idle agents, and each agent's working life. Every status change goes through one door,
``Agent.set_status`` (the status funnel), where behaviours and observers attach through
the hooks in :mod:`sim.engine.behaviour`. The engine knows nothing of regimes or strain.
"""
