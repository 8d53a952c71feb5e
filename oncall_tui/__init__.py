"""oncall-tui: Alertmanager alerts, silences, SLOs and triage from the keyboard."""

__version__ = "0.1.0"
