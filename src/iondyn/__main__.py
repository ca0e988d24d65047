"""``python -m iondyn`` runs the command line."""

import sys

from iondyn.cli import main

sys.exit(main())
