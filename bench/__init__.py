"""Benchmarks against named peers, printing ratios (see bench/README.md)."""
