"""From a scenario to the answer: costs at any volume, the run's typed result, break-even and payback,
sweeps on any executor, and what one replica can serve."""
