"""``python -m anchor_tui``: the same as the ``anchor-tui`` command."""

import sys

from anchor_tui.cli import main

sys.exit(main())
