"""Two engines with one interface: `fluid` (analytic) and `des` (SimPy). Both turn a scenario's load
into usage (requests, tokens, GPU-hours and latency per option); neither knows a dollar."""
