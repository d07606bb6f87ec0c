"""The strict stand-in device (nablab.testing.strict_device) is nablab's "cuda" device for every test here."""

import pytest

from nablab.testing import strict_device


@pytest.fixture(autouse=True)
def stand_in_gpu():
    with strict_device.enable() as xp:
        yield xp
