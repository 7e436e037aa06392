"""Evaluation scenarios (seed 001 §2.1.2.4): one module per scenario, registered in ``SCENARIOS``.

    scenario = SCENARIOS.get("asr")(AsrOptions(model_name="asr_small"))
"""
from harness.registry import Registry, import_submodules

SCENARIOS: Registry = Registry("scenario")

import_submodules(__name__)
