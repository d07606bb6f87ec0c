"""Bad arguments to the convolution family are clear errors: ShapeError (a RuntimeError and a ValueError)
naming the expected and the actual shapes for a wrong rank or channel count, ValueError for arguments
PyTorch refuses, NotImplementedError for what PyTorch does not implement either."""

import pytest

import nablab
from nablab import nn
from nablab.errors import ShapeError
from nablab.nn import functional as F

r = nablab.randn

CASES = [
    # call, exception, message (a regular expression)
    (lambda: F.conv2d(r(8, 8), r(6, 3, 3, 3)), ShapeError, r"shape \(N, C, H, W\) \(or unbatched.*got shapes \(8, 8\)"),
    (lambda: F.conv2d(r(2, 3, 8, 8), r(6, 4, 3, 3)), ShapeError,
     r"input has 3 channels \(shape \(2, 3, 8, 8\)\), the weight \(6, 4, 3, 3\) .*shape \(N, 4, H, W\)\)"),
    (lambda: F.conv2d(r(2, 4, 8, 8), r(6, 4, 3, 3), groups=2), ShapeError, r"groups=2 expects 8 \(an input of shape"),
    (lambda: F.conv2d(r(2, 3, 2, 2), r(6, 3, 3, 3)), ShapeError, "3×3 kernel .* does not fit a 2×2 input"),
    (lambda: F.conv2d(r(2, 3, 8, 8), r(6, 3, 3, 3), stride=2, padding="same"), ValueError, "strided"),
    (lambda: F.conv2d(r(2, 3, 8, 8), r(6, 3, 3, 3), padding="full"), ValueError, "'same', 'valid'"),
    (lambda: F.conv2d(r(2, 3, 8, 8), r(6, 3, 3, 3), stride=(1, 2, 3)), ValueError, "stride must be an int or 2"),
    (lambda: F.conv1d(r(2, 3, 8, 8), r(6, 3, 3)), ShapeError, r"shape \(N, C, L\).*\(2, 3, 8, 8\)"),
    (lambda: F.conv1d(r(2, 4, 8), r(6, 3, 3)), ShapeError, r"input has 4 channels .* \(N, 3, L\)"),
    (lambda: F.conv_transpose2d(r(2, 4, 5, 5), r(3, 2, 3, 3)), ShapeError, r"input has 4 channels .* \(N, 3, H, W\)"),
    (lambda: F.conv_transpose2d(r(2, 3, 5, 5), r(3, 2, 3, 3), stride=2, output_padding=2), ValueError,
     "smaller than either stride or dilation"),
    (lambda: F.conv_transpose2d(r(2, 3, 1, 1), r(3, 2, 1, 1), padding=1), ShapeError, "leaves no output"),
    (lambda: F.conv_transpose1d(r(2, 3, 5, 5), r(3, 2, 3)), ShapeError, r"\(N, C_in, L\)"),
    (lambda: nn.Conv1d(3, 6, 3)(r(2, 3, 4, 4)), ShapeError, r"\(N, C, L\)"),
    (lambda: nn.Conv2d(3, 6, 3, padding_mode="mirror"), ValueError, "padding_mode must be one of"),
    (lambda: nn.Conv2d(3, 6, 3, stride=2, padding="same"), ValueError, "strided"),
    (lambda: nn.ConvTranspose2d(3, 6, 3, padding="same"), ValueError, "padding_mode 'zeros'"),
    (lambda: F.pad(r(2, 3), (1,)), ShapeError, "divisible by 2"),
    (lambda: F.pad(r(2, 3), (1, 1, 1, 1, 1, 1)), ShapeError, "pads 3 dims, but the input has only 2"),
    (lambda: F.pad(r(2, 3), (1, 1), mode="wrap"), ValueError, "mode must be"),
    (lambda: F.pad(r(1, 2, 3), (3, 0), mode="reflect"), ShapeError, r"size 3 .*at most 2"),
    (lambda: F.pad(r(1, 2, 3), (4, 0), mode="circular"), ShapeError, r"size 3 .*at most 3"),
    (lambda: F.pad(r(3, 4), (1, 1, 1, 1), mode="reflect"), NotImplementedError, r"shape \(3, 4\)"),
    (lambda: F.pad(r(2, 3), (-2, -2)), ShapeError, "cropping"),
    (lambda: F.pad(r(2, 3), (1, 1), mode="reflect", value=2), ValueError, "only meaningful with mode='constant'"),
    (lambda: F.interpolate(r(2, 3, 4), scale_factor=2, mode="bilinear"), ShapeError, r"4-D input .* \(2, 3, 4\)"),
    (lambda: F.interpolate(r(4, 4), size=2), ShapeError, r"3, 4, 5-D input"),
    (lambda: F.interpolate(r(2, 3, 4, 4), scale_factor=2, align_corners=True), ValueError, "align_corners"),
    (lambda: F.interpolate(r(2, 3, 4, 4)), ValueError, "exactly one of size and scale_factor"),
    (lambda: F.interpolate(r(2, 3, 4, 4), size=3, scale_factor=2), ValueError, "exactly one"),
    (lambda: F.interpolate(r(2, 3, 4, 4), size=(3, 3, 3)), ValueError, "2 spatial dims"),
    (lambda: F.interpolate(r(2, 3, 4, 4), size=4, recompute_scale_factor=True), ValueError, "not meaningful"),
    (lambda: F.interpolate(r(2, 3, 4, 4), scale_factor=0.1), ShapeError, "leaves no output"),
    (lambda: F.interpolate(r(2, 3, 4, 4), size=2, mode="bicubic"), NotImplementedError, "bicubic"),
    (lambda: F.interpolate(r(1, 2, 3, 4, 4), size=2, mode="area"), ShapeError, r"3, 4-D input"),
    (lambda: F.interpolate(r(2, 3, 4, 4), size=2, mode="area", align_corners=False), ValueError, "align_corners"),
    (lambda: F.interpolate(r(2, 3, 4, 4), size=2, mode="bilinear", antialias=True), NotImplementedError, "antialias"),
]


@pytest.mark.parametrize("call, error, message", CASES)
def test_clear_errors(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_shape_errors_are_runtime_and_value_errors():
    for error in (RuntimeError, ValueError):
        with pytest.raises(error):
            F.conv2d(r(2, 3, 8, 8), r(6, 4, 3, 3))
