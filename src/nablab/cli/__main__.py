"""``python -m nablab.cli`` runs the ``nablab`` command."""

import sys

from . import main

sys.exit(main())
