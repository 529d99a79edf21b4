"""Sandboxes run the code under test: a local process sandbox, or Docker."""
