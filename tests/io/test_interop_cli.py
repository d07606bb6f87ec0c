"""``nablab export`` and ``nablab predict`` on run folders and weights files."""

import json
import re

import interop_runs
import numpy as np
import onnx
import onnxruntime as ort
import pytest
from PIL import Image

import nablab
from nablab import nn
from nablab.cli import main
from nablab.lab.model_source import classifier_for
from nablab.models import MLP

digits_run = interop_runs.digits_run  # a shared fixture (see interop_runs)


LINE = re.compile(r"^(?P<path>.+): (?P<top>.+ \(\d\.\d{3}\)(, .+ \(\d\.\d{3}\))*)$")


def _digit_files(folder, count=4):
    ds = nablab.data.load("digits")
    folder.mkdir()
    for i in range(count):
        ink = ds.test.x[i, 0].astype(np.float64) * 255 / 16
        Image.fromarray(np.round(255 - ink).astype(np.uint8)).resize((48, 48), Image.NEAREST).save(folder / f"{i}.png")
    return ds


def _parse(out):
    result = {}
    for line in out.strip().splitlines():
        match = LINE.match(line)
        assert match, line
        top = re.findall(r"(\S+) \((\d\.\d{3})\)", match["top"])
        result[match["path"]] = [(name, float(p)) for name, p in top]
    return result


def test_predict_reports_unreadable_files_and_classifies_the_rest(tmp_path, digits_run, capsys):
    _digit_files(tmp_path / "images")
    (tmp_path / "images" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    (tmp_path / "images" / "readme.txt").write_text("not an image, and not named like one: skipped")
    single = tmp_path / "one.png"
    Image.open(tmp_path / "images" / "0.png").save(single)

    code = main(["predict", str(digits_run), str(tmp_path / "images"), str(tmp_path / "missing.png"), str(single)])
    captured = capsys.readouterr()
    assert code == 1  # some files could not be read
    results = _parse(captured.out)
    assert sorted(results) == sorted([str(tmp_path / "images" / f"{i}.png") for i in range(4)] + [str(single)])
    for top in results.values():
        assert len(top) == 3 and [p for _, p in top] == sorted((p for _, p in top), reverse=True)
        assert sum(p for _, p in top) <= 1.002 and {name for name, _ in top} <= {str(d) for d in range(10)}
    assert results[str(single)] == results[str(tmp_path / "images" / "0.png")]
    errors = captured.err.strip().splitlines()
    assert len(errors) == 2
    assert re.search(r"nablab: cannot classify \S+broken\.png: cannot decode the image", captured.err)
    assert re.search(r"nablab: cannot classify \S+missing\.png: no such file", captured.err)
    assert "readme.txt" not in captured.err

    assert main(["predict", str(digits_run), str(single), "--top", "1"]) == 0
    assert len(_parse(capsys.readouterr().out)[str(single)]) == 1


def test_predict_errors(tmp_path, digits_run, capsys):
    (tmp_path / "empty").mkdir()
    _digit_files(tmp_path / "images", count=1)
    assert main(["predict", str(digits_run), str(tmp_path / "empty"), str(tmp_path / "images")]) == 1
    captured = capsys.readouterr()
    assert "empty holds no image files" in captured.err and len(_parse(captured.out)) == 1
    with pytest.raises(SystemExit, match="nablab: (error: )?no safetensors file"):
        main(["predict", str(tmp_path / "nothing.safetensors"), "x.png"])
    with pytest.raises(SystemExit, match="nablab: no run folder|has no config.toml"):
        main(["predict", str(tmp_path / "empty"), "x.png"])
    with pytest.raises(SystemExit, match=r"records images of 1×8×8, not the 1×28×28 of --input-shape"):
        main(["predict", str(digits_run), "x.png", "--input-shape", "1,28,28"])


def test_export_a_run_to_onnx_and_safetensors_then_predict_with_them(tmp_path, digits_run, capsys):
    onnx_path, weights = tmp_path / "digits.onnx", tmp_path / "digits.safetensors"
    assert main(["export", str(digits_run), "--onnx", str(onnx_path), "--safetensors", str(weights)]) == 0
    out = capsys.readouterr().out
    assert "input 'input' of shape N×64" in out
    difference = float(re.search(r"max \|difference\| from nablab (\S+)", out)[1])
    assert difference < 1e-5 and "(allowed: 1e-05 × max(1, max |output|) = " in out

    model = onnx.load(str(onnx_path))
    onnx.checker.check_model(model, full_check=True)
    props = {p.key: p.value for p in model.metadata_props}
    assert json.loads(props["classes"]) == [str(d) for d in range(10)]
    assert json.loads(props["inference"])["preprocess"] == "scale"

    # onnxruntime on prepared digits gives the run's model's probabilities
    ds = nablab.data.load("digits")
    classifier = classifier_for(digits_run)
    x = classifier.transform(ds.test.x[:50].astype(np.float32))
    (logits,) = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"]).run(None, {"input": x})
    probs = np.exp(logits - logits.max(1, keepdims=True))
    np.testing.assert_allclose(probs / probs.sum(1, keepdims=True), classifier.probabilities(ds.test.x[:50]),
                               rtol=1e-5, atol=1e-6)
    assert (logits.argmax(1) == ds.test.y[:50]).mean() > 0.8

    # the exported weights file carries the classes and preprocessing: predict gives the same answers
    _digit_files(tmp_path / "images")
    assert main(["predict", str(digits_run), str(tmp_path / "images")]) == 0
    from_run = capsys.readouterr()
    assert main(["predict", str(weights), str(tmp_path / "images")]) == 0
    from_file = capsys.readouterr()
    assert from_file.out == from_run.out and from_file.err == ""
    assert nablab.io.read_metadata(weights)["inference"]["input_shape"] == [1, 8, 8]

    # and a weights file exports to ONNX in turn
    assert main(["export", str(weights), "--onnx", str(tmp_path / "again.onnx")]) == 0
    assert "max |difference|" in capsys.readouterr().out


def test_export_of_plain_weights_and_errors(tmp_path, capsys):
    nablab.save(MLP(10, [5], 3), tmp_path / "mlp.safetensors")
    assert main(["export", str(tmp_path / "mlp.safetensors"), "--onnx", str(tmp_path / "mlp.onnx"),
                 "--input-shape", "10"]) == 0
    assert "N×10" in capsys.readouterr().out
    onnx.checker.check_model(onnx.load(str(tmp_path / "mlp.onnx")))

    with pytest.raises(SystemExit, match="nothing to write"):
        main(["export", str(tmp_path / "mlp.safetensors")])
    # the first Linear fixes the input (N × 10, not the pixels of any image): no --input-shape needed
    assert main(["export", str(tmp_path / "mlp.safetensors"), "--onnx", str(tmp_path / "guessed.onnx")]) == 0
    assert "N×10" in capsys.readouterr().out
    with pytest.raises(SystemExit, match="no folder .*nowhere to write the ONNX graph x.onnx into"):
        main(["export", str(tmp_path / "mlp.safetensors"), "--onnx", str(tmp_path / "nowhere" / "x.onnx")])
    assert not (tmp_path / "nowhere").exists()
    nablab.save(nn.Sequential(nn.Linear(4, 4), nn.MSELoss()), tmp_path / "loss.safetensors")
    unsupported = r"nablab: (error: )?cannot export Sequential to ONNX: unsupported layer\(s\) 1 \(MSELoss\)"
    with pytest.raises(SystemExit, match=unsupported):
        main(["export", str(tmp_path / "loss.safetensors"), "--onnx", str(tmp_path / "x.onnx"), "--input-shape", "4"])
    assert not (tmp_path / "x.onnx").exists()
    (tmp_path / "junk.safetensors").write_bytes(b"junk")
    with pytest.raises(SystemExit, match="nablab: .*junk.safetensors is not a safetensors file"):
        main(["export", str(tmp_path / "junk.safetensors"), "--onnx", str(tmp_path / "x.onnx")])


def test_predict_and_export_of_a_conv_net_whose_image_size_cannot_be_guessed(tmp_path, capsys):
    nablab.manual_seed(0)
    nablab.save(nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.Flatten(), nn.Linear(2 * 6 * 6, 3)),
                tmp_path / "conv.safetensors")
    Image.fromarray(np.zeros((16, 16), np.uint8)).save(tmp_path / "a.png")
    ask = r"nablab: (error: )?cannot tell the image size Sequential takes: .*pass --input-shape C,H,W"
    with pytest.raises(SystemExit, match=ask):
        main(["predict", str(tmp_path / "conv.safetensors"), str(tmp_path / "a.png")])
    with pytest.raises(SystemExit, match=ask):
        main(["export", str(tmp_path / "conv.safetensors"), "--onnx", str(tmp_path / "conv.onnx")])
    assert main(["predict", str(tmp_path / "conv.safetensors"), str(tmp_path / "a.png"), "--input-shape", "1,8,8"]) == 0
    captured = capsys.readouterr()
    assert list(_parse(captured.out)) == [str(tmp_path / "a.png")] and "1×8×8 (as given)" in captured.err
    with pytest.raises(SystemExit):  # argparse: C,H,W only
        main(["predict", str(tmp_path / "conv.safetensors"), str(tmp_path / "a.png"), "--input-shape", "64"])
    assert "--input-shape takes C,H,W" in capsys.readouterr().err


def test_export_fails_when_onnxruntime_differs_by_more_than_1e_5_of_the_output_scale(tmp_path, capsys, monkeypatch):
    import nablab.cli.export as export

    nablab.save(MLP(10, [5], 3), tmp_path / "mlp.safetensors")
    command = ["export", str(tmp_path / "mlp.safetensors"), "--onnx", str(tmp_path / "mlp.onnx"), "--input-shape", "10"]
    monkeypatch.setattr(export, "_check", lambda model, path, example: (2e-5, 1.0))
    assert main(command) == 1
    assert "differ from nablab's by 2.0e-05, more than 1.0e-05" in capsys.readouterr().out
    monkeypatch.setattr(export, "_check", lambda model, path, example: (2e-5, 4.0))  # large outputs: relative
    assert main(command) == 0
