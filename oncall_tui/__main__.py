"""`python -m oncall_tui`: the same as the `oncall-tui` command."""

import sys

from .cli import main

sys.exit(main())
