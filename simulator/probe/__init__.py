"""Measure real hardware and write `measured/*.json`; fit the step-time model to what was measured."""
