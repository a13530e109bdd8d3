"""Operator scripts: run as `python -m tools.<name>` from the repository."""
