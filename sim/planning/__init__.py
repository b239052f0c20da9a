"""Planning by formula.

Erlang B, C and A, staffing requirements, and the stationary systems the simulation is
validated against.
"""
