"""Servers, proxies and terminals the tests drive: the real things, or faults in front of them."""
