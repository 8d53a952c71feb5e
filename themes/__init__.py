"""The bundled themes: the build ships this folder as `oncall_tui.themes` (see pyproject.toml)."""
