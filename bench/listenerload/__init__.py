"""Helpers of bench/listener_load.py: test data, prefill, servers and the simulated listeners."""
