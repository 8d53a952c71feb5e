"""The Textual user interface: a thin app, screens, widgets and dialogs."""
