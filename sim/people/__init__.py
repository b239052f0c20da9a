"""People: what agents feel and do beyond the schedule.

Strain, exhaustion and threat updated exactly at every status change, the end-of-shift
survey, sickness absence, quits and replacements, and strain's feedback on handling. The
pieces are behaviours on the engine's hooks, composed per agent from the scenario.
"""
