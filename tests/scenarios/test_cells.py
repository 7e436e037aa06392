"""Every cell of every registered scenario (harness.pytest_plugin.cells): one test id per cell."""
from harness.pytest_plugin.cells import test_cell  # noqa: F401
