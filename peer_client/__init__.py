"""Watercooler peer client (docs to come)."""
