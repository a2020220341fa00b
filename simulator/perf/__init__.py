"""Serving performance: the step-time model of a replica, and the measured format it can be fitted to."""
