"""Pure logic: merging HA peers, sanitising untrusted text, and (later) matchers, durations,
silence planning and SLO math. No I/O, no Textual, no Rich (tests/unit/test_layers.py proves it).
"""
