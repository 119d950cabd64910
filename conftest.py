"""Suite-wide policy: a skipped test fails the run, unless it names a missing optional tool."""

from __future__ import annotations

import pytest

ALLOWED_SKIP_PREFIX = "missing optional tool:"


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is None:
        return
    bad = []
    for report in reporter.stats.get("skipped", []):
        reason = str(report.longrepr[2]) if isinstance(report.longrepr, tuple) else str(report.longrepr)
        if ALLOWED_SKIP_PREFIX not in reason:
            bad.append(f"{report.nodeid}: {reason}")
    if bad:
        reporter.write_line("Skipped tests are failures unless they name a missing optional tool:", red=True)
        for line in bad:
            reporter.write_line(f"  {line}", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
