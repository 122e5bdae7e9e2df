"""Headless Debian chromium for checks that need the real browser engine (notebooks, benchmarks, tests)."""
