"""Benchmarks that print juki's throughput next to the raw limit of the same database.

Run `python -m bench seed|events|all [--residents N] [--events K] [--backend sqlite|postgres|both]`.
They print; they assert nothing about time (these machines are noisy).
"""
