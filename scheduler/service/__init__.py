"""The running service: the tick and its loop, the lock, dispatch, health and simulation."""
