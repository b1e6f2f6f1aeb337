"""Benchmarks of Mon Compte (docs/benchmarks.md). Nothing here runs in production."""
