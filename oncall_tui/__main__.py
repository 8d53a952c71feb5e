"""`python -m oncall_tui`: the same as the `oncall-tui` command.

Guarded so that importing this module (a walk over the package's modules, a test, a tool)
starts nothing.
"""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
