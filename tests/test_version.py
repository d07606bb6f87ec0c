"""``nablab.version.__version__`` (readable without importing the package root) is ``nablab.__version__``."""

import nablab
from nablab.version import __version__


def test_one_version():
    assert nablab.__version__ == __version__
