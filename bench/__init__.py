"""Benchmarks that print figures (never timed asserts in tests); see docs/benchmarks.md."""
