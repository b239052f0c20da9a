"""ccsim's model of one contact centre and one run (no files, plots or printing here)."""

from sim.model import RunResult, simulate
from sim.scenario import Scenario, ScenarioError, load_scenario, scenario_from_dict

__all__ = ["RunResult", "Scenario", "ScenarioError", "load_scenario", "scenario_from_dict",
           "simulate"]
