"""Benchmarks that need more than `rag bench`: synthetic corpora and the scale test (not installed)."""
