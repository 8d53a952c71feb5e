"""Async HTTP clients for Alertmanager v2 and Prometheus v1: typed models in, typed errors out.

Nothing here imports Textual or Rich (tests/unit/test_layers.py proves it), so the clients serve the
TUI, the CLI and scripts alike.
"""
