"""The Textual user interface: a thin app, screens, widgets and dialogs."""

import os

# Textual paints on a fixed grid of at most TEXTUAL_FPS frames a second (60 by default), and
# only when something changed: a key's repaint waited up to 16.7 ms for the next tick, most of
# the key-to-screen p95 (24.8 ms at 60, 14.5 ms at 240: 10,000 alerts, j/k in a pty). An idle
# screen's timer is paused either way. Set before Textual is first imported (this package's
# modules import it); a value of the user's own wins.
os.environ.setdefault("TEXTUAL_FPS", "240")
