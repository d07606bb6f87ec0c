"""Every gradient-check case (every op of nablab.ops) on the stand-in device: the same outputs and
gradients, bit for bit, as the CPU reference path, and no implicit conversion or device mixing.

The device runs the reference ops (the CPU kernels take only host arrays), so the CPU side runs
under ``use_reference()`` too: the arithmetic is then the same and any difference is a device path
that computes something else. The cases' own constants (indices, running statistics) are made on
the default device, set to the stand-in as ``torch.set_default_device("cuda")`` would.
"""

import numpy as np
import pytest
from device_checks import assert_same, assert_syncs

import nablab
from nablab.backend import settle_checks
from nablab.gradcheck_cases import CASES
from nablab.testing import strict_device

#: the cases whose ops wait for the device, and why: each chooses its way on the values (a zero in a
#: product, a median's ties, a weight's sign), or moves the result to the host; checks of indices and
#: targets do not wait (they are deferred to the next read, nablab.backend.check)
SYNCS = {"median (all)": 1, "cumprod (with zeros)": 1, "cumprod (no zeros)": 1, "binary_cross_entropy (weight)": 1,
         "unpool: max_unpool2d": 2, "to device (cpu to cpu)": 1}


def run(case, inputs, device):
    nablab.manual_seed(0)
    nablab.set_default_device(device)
    try:
        tensors = [nablab.tensor(a, dtype=nablab.float64, requires_grad=True) for a in inputs]
        settle_checks()  # none left over from an earlier case
        with strict_device.count_syncs() as count:
            out = case.fn(*tensors)
            loss = out.sum() if out.ndim else out
            loss.backward()
    finally:
        nablab.set_default_device(None)
    return out, tensors, count


@pytest.mark.parametrize("name", sorted(CASES))
def test_case_on_the_device_equals_the_cpu_reference(name):
    case = CASES[name]
    inputs = case.make_inputs(np.random.default_rng(0))
    with nablab.kernels.use_reference():
        host_out, host_inputs, _ = run(case, inputs, "cpu")
        out, device_inputs, count = run(case, inputs, "cuda")
    assert out.device == ("cpu" if name == "to device (cpu to cpu)" else "cuda:0")  # that case moves to the host
    assert_same(out.numpy(), host_out.numpy())
    for i, (h, d) in enumerate(zip(host_inputs, device_inputs)):
        assert d.grad.device == "cuda:0", f"input {i}: its gradient is on {d.grad.device}"
        assert_same(d.grad.numpy(), h.grad.numpy(), err_msg=f"input {i}")
    assert_syncs(count, SYNCS.get(name, 0))
    settle_checks()  # the case's deferred checks pass
