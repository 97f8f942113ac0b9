"""Stammkunde: a points-and-rewards service for merchants."""

__version__ = "0.1.0"
