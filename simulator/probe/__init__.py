"""Measure real hardware and write `measured/*.json`; fit the step-time model to what was measured."""

STOPPED = "stopped before the sweep ended"
"""The fault of a sweep a signal ended: its finished points are kept."""
