"""The demo stack: a synthetic churn-api exporter, Prometheus and an Alertmanager HA pair.

``oncall-tui demo`` and the test suite both start it with ``oncall_tui.demo.stack.Stack``;
the configs and rules it loads live in ``files/``. Nothing here imports Textual or Rich,
and this file imports nothing so that ``python -m oncall_tui.demo.exporter`` runs cleanly.
"""
