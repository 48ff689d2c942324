"""Pure rule engine: what is due when, its status now, and which notices should exist now.

Nothing in this package reads files, clocks or the network: callers pass text and ``now``.
"""
