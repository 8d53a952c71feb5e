"""`python -m oncall_tui`: the same as the `oncall-tui` command.

Guarded so that importing the package's modules (help's binding scan, tools that walk the
package) starts nothing.
"""

import sys

from oncall_tui.cli.main import main

if __name__ == "__main__":
    sys.exit(main())
