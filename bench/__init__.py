"""Benchmarks of the DMP service (issue #14); not part of the test suite."""
