"""The command line: the app, auth, demo and check-config commands. Builds settings and hands over."""

from oncall_tui.cli.main import main

__all__ = ["main"]
