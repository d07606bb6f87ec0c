"""The top-level package: what ``import nablab`` gives."""

import subprocess
import sys

import pytest

import nablab


def test_subpackages_are_reachable_after_a_plain_import():
    # a fresh interpreter: this test process may have imported the packages already
    code = ("import sys, nablab; assert 'nablab.lab' not in sys.modules; "
            "print(nablab.models.TwoLayerNet.__name__, nablab.data.load.__name__, nablab.lab.Trainer.__name__)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["TwoLayerNet", "load", "Trainer"]


def test_an_unknown_attribute_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'modles'"):
        nablab.modles  # noqa: B018
    assert {"models", "data", "lab"} <= set(dir(nablab)) and set(nablab.__all__) <= set(dir(nablab))
    assert not {"models", "data", "lab"} & set(nablab.__all__)  # `from nablab import *` stays light
