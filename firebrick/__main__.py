from __future__ import annotations

import sys

from firebrick.cli import main

sys.exit(main())
