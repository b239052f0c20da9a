"""People: what agents feel and do beyond the schedule, and what is recorded of it.

Strain, exhaustion and threat updated exactly at every status change, the end-of-shift
survey, sickness absence, quits and replacements, and strain's feedback on handling
(``stress``). ``compose.build_behaviours`` gives each agent one behaviour on the engine's
hooks, composed from the scenario: the regime's policy, the strain and the watchers of the
observers asked for before the run (``observe``: strain over the day, at breaks, quit
hazards), whose records come back with the run.
"""
