"""Benchmarks: run as ``python -m bench.<name>``; each prints ratios against a baseline run in the same process."""
