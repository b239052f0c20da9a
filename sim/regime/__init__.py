"""The measurement regime: who sees an agent's numbers and what is done with them.

``rules`` is the one adherence-rule engine (which breaches count, when they make a warning
or coaching talk, and its label), used by the end-of-day review and the real-time tracker
alike; ``supervisor`` is the team leaders (what they see, chases, warnings, coaching, the
action log); ``responses`` is each agent's record and documented responses; ``monitoring``
(recorded and scored calls, listen-in), ``targets`` (daily adherence, the adherence target),
``league`` (league tables) and ``realtime`` (the real-time screen and its trackers) are
the rest; ``policy`` holds the ``Regime`` facade that composes them for ``sim.model``.
Nothing here imports ``sim.model``.
"""
