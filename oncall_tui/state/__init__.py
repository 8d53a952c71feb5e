"""State: client wiring, one store per kind of data, silence writes, query history.

Stores own polling, backoff, staleness and the last good data, and post messages to the
views that subscribe; they never touch a widget.
"""
