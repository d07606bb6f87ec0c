"""``nablab predict`` / ``export``: what a user reads when an argument is not what was meant."""

import warnings

import interop_runs
import numpy as np
import pytest
from PIL import Image

from nablab.cli import main
from nablab.io.images import ImageError, load_image

digits_run = interop_runs.digits_run  # a shared fixture (see interop_runs)


def _picture(path, size=(16, 16)):
    Image.fromarray(np.full(size, 200, np.uint8)).save(path)
    return path


def test_an_empty_folder_is_named_in_a_sentence(tmp_path, digits_run, capsys):
    (tmp_path / "emptydir").mkdir()
    code = main(["predict", str(digits_run), str(tmp_path / "emptydir"), str(_picture(tmp_path / "a.png"))])
    err = capsys.readouterr().err
    assert code == 1
    assert f"cannot classify {tmp_path / 'emptydir'}: the folder emptydir holds no image files (.png" in err, err


def test_a_run_folder_among_the_images_is_refused_naming_it(tmp_path, digits_run, capsys):
    # `nablab predict runs/digits-* seven.png` after two runs: the second run folder lands among the images
    with pytest.raises(SystemExit) as info:
        main(["predict", str(digits_run), str(digits_run), str(_picture(tmp_path / "a.png"))])
    captured = capsys.readouterr()
    assert info.value.code == 2 and captured.out == ""
    assert f"nablab: error: {digits_run}: a run folder where images were expected" in captured.err


def test_export_of_a_pattern_that_matched_two_folders_names_them(tmp_path, digits_run, capsys):
    other = tmp_path / "digits-20260101-000000"
    other.mkdir()
    with pytest.raises(SystemExit) as info:
        main(["export", str(digits_run), str(other), "--onnx", str(tmp_path / "x.onnx")])
    err = capsys.readouterr().err
    assert info.value.code == 2
    assert f"export takes one run folder or weights file, got 2: {digits_run}, {other}" in err
    assert not (tmp_path / "x.onnx").exists()


def test_pillow_warnings_do_not_reach_the_user(tmp_path, monkeypatch):
    path = _picture(tmp_path / "big.png", size=(40, 40))  # 1,600 pixels
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)  # Pillow warns between 1,000 and 2,000, refuses above
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            load_image(path, (1, 8, 8))
        except ImageError as exc:
            assert "too large to read safely" in str(exc) and "big.png" in str(exc)
        else:
            raise AssertionError("a picture past Pillow's decompression-bomb size was read")
    assert not caught, [str(w.message) for w in caught]
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 10_000)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert load_image(path, (1, 8, 8)).shape == (1, 8, 8)
    assert not caught
