"""Scenarios: one module per scenario (or family base), registered in ``SCENARIOS``; see base.py.

    @SCENARIOS.register("ssd")          # the registered name is the class's ``name``, the matrix file
    class SsdScenario(Scenario): ...    # matrix/ssd.yaml, the pytest marker and the references key
"""
from harness.registry import Registry, import_submodules, load_entry_points


def _name_scenario(name: str, cls: type) -> None:
    cls.name = name


SCENARIOS: Registry = Registry("scenario", on_register=_name_scenario)

import_submodules(__name__)
# plug-ins of other distributions (a member company's wheel): entry point group "harness.scenarios"
load_entry_points("harness.scenarios", SCENARIOS)
