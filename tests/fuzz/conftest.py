"""Print the fuzz suite's counts (cases run, contract failures) at the end of the run."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    from fuzzlib import Tally

    if Tally.cases:
        terminalreporter.write_line(
            f"simlab fuzz: {Tally.cases} cases, {len(Tally.failures)} contract failures"
        )
        for f in Tally.failures[:20]:
            terminalreporter.write_line(f"  {f}")
