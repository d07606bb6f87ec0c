"""Classifying image files: images prepared as the training images were (grey/RGB, size, inversion,
pixel range, training statistics), run folders and weights files, and unreadable files reported
one by one while the rest are classified."""

import interop_runs
import numpy as np
import pytest
from PIL import Image

import nablab
from nablab import nn
from nablab.io import Classifier, ImageError, WeightsError, load_classifier, load_image
from nablab.io.predict import guess_inference_info, info_to_json
from nablab.lab.model_source import classifier_for
from nablab.models import MLP, SmallCNN

cnn_run = interop_runs.cnn_run  # a shared fixture (see interop_runs)
digits_run = interop_runs.digits_run  # a shared fixture (see interop_runs)


@pytest.fixture(scope="module")
def digits():
    return nablab.data.load("digits")


def write_digits(folder, ds, n=10, fmt="png", **save_kwargs):
    """The first n test digits as a person would draw them: black ink on white, 8× larger."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n):
        ink = ds.test.x[i, 0].astype(np.float64) * 255 / 16
        img = Image.fromarray(np.round(255 - ink).astype(np.uint8)).resize((64, 64), Image.NEAREST)
        paths.append(folder / f"{i:02d}.{fmt}")
        img.save(paths[-1], **save_kwargs)
    return paths


def test_drawn_digits_are_classified_like_the_originals(tmp_path, digits_run, digits):
    classifier = classifier_for(digits_run)
    assert classifier.input_shape == (1, 8, 8) and classifier.classes == [str(d) for d in range(10)]
    assert classifier.notes == []
    write_digits(tmp_path / "png", digits)
    predictions, failures = classifier.classify_files([tmp_path / "png"], k=3)
    assert failures == [] and len(predictions) == 10
    originals = classifier.probabilities(digits.test.x[:10])
    for prediction, probs in zip(predictions, originals):
        assert len(prediction.top) == 3
        names = [name for name, _ in prediction.top]
        assert names[0] == str(probs.argmax())
        for name, p in prediction.top:  # the PNG round trip only rounds pixels to 8 bits
            assert abs(p - probs[int(name)]) < 0.01
        assert [p for _, p in prediction.top] == sorted((p for _, p in prediction.top), reverse=True)
    correct = sum(int(p.top[0][0]) == y for p, y in zip(predictions, digits.test.y[:10]))
    assert correct >= 8

    # inverting matters: the same files read without inversion look nothing like digits to the model
    not_inverted, _ = classifier.classify_files([tmp_path / "png"], invert=False)
    assert sum(p.top[0][0] != q.top[0][0] for p, q in zip(predictions, not_inverted)) >= 3

    jpegs = write_digits(tmp_path / "jpg", digits, fmt="jpg", quality=95)
    from_jpeg, failures = classifier.classify_files(jpegs)
    assert failures == []
    assert sum(p.top[0][0] == q.top[0][0] for p, q in zip(predictions, from_jpeg)) >= 9


def test_training_statistics_are_used(cnn_run, digits):
    """A run with per-channel standardisation: the classifier's probabilities are those of the
    training pipeline's own evaluation transform."""
    from nablab.grad_mode import no_grad
    from nablab.lab import Run, resolve
    from nablab.lab.config import build
    from nablab.nn import functional as F

    classifier = classifier_for(cnn_run)
    assert type(classifier.model).__name__ == "SmallCNN"
    config = Run(cnn_run).read_config()
    config.pop("meta")
    _, (_, eval_tf), *_ = build(resolve(config), progress=False)
    x = digits.test.x[:20]
    with no_grad():
        expected = F.softmax(classifier.model.eval()(nablab.tensor(eval_tf(x))), axis=-1).numpy()
    np.testing.assert_allclose(classifier.probabilities(x), expected, rtol=1e-6, atol=1e-7)
    scaled_only = classifier.model(nablab.tensor((x / 16.0).astype(np.float32))).numpy()  # without the statistics
    assert not np.allclose(F.softmax(nablab.tensor(scaled_only), axis=-1).numpy(), expected, atol=1e-3)


def test_colour_images_use_the_stored_preprocessing(tmp_path):
    nablab.manual_seed(0)
    model = SmallCNN(3, 4, widths=(4, 8), image_size=8)
    mean = np.array([0.5, 0.4, 0.3], np.float32).reshape(3, 1, 1)
    std = np.array([0.2, 0.25, 0.3], np.float32).reshape(3, 1, 1)
    info = {"dataset": "pets", "classes": ["cat", "dog", "ship", "frog"], "input_shape": [3, 8, 8], "max_value": 255.0,
            "preprocess": "channel", "pixel_scale": 255.0, "flatten": False, "statistics": {"mean": mean, "std": std}}
    nablab.save(model, tmp_path / "pets.safetensors", inference=info_to_json(info))

    rng = np.random.default_rng(0)
    picture = Image.fromarray(rng.integers(0, 256, (24, 32, 3), dtype=np.uint8))
    picture.save(tmp_path / "a.png")
    Image.fromarray(rng.integers(0, 256, (20, 20), dtype=np.uint8)).save(tmp_path / "grey.png")

    classifier = load_classifier(tmp_path / "pets.safetensors")
    assert classifier.classes == info["classes"] and classifier.input_shape == (3, 8, 8)
    (prediction, grey), failures = classifier.classify_files([tmp_path / "a.png", tmp_path / "grey.png"], k=4)
    assert failures == []
    pixels = np.asarray(picture.resize((8, 8), Image.Resampling.BOX), np.float32).transpose(2, 0, 1)
    model.eval()
    logits = model(nablab.tensor(((pixels / 255 - mean) / std)[None])).numpy()[0]
    expected = np.exp(logits - logits.max()) / np.exp(logits - logits.max()).sum()
    for name, p in prediction.top:
        assert p == pytest.approx(expected[info["classes"].index(name)], abs=1e-6)
    assert prediction.top[0][0] == info["classes"][expected.argmax()]

    grey_pixels = classifier.load(tmp_path / "grey.png")  # a grey picture becomes three equal channels
    assert grey_pixels.shape == (3, 8, 8) and np.array_equal(grey_pixels[0], grey_pixels[2])
    assert len(grey.top) == 4


def test_weights_without_preprocessing_guess_from_the_model(tmp_path):
    nablab.save(MLP(64, [16], 10), tmp_path / "mlp.safetensors")
    classifier = load_classifier(tmp_path / "mlp.safetensors")
    assert classifier.input_shape == (1, 8, 8) and classifier.classes[-1] == "9"
    assert "no preprocessing is stored" in classifier.notes[0] and "1×8×8" in classifier.notes[0]
    nablab.save(SmallCNN(3, 5, widths=(4,), image_size=16), tmp_path / "cnn.safetensors")
    assert load_classifier(tmp_path / "cnn.safetensors").input_shape == (3, 16, 16)
    nablab.save(nn.Sequential(nn.Linear(50, 3)), tmp_path / "odd.safetensors")
    with pytest.raises(ValueError, match="50 features, which are not the pixels of a square image"):
        load_classifier(tmp_path / "odd.safetensors")


def test_load_image_prepares_grey_pictures_like_mnist(tmp_path):
    canvas = np.full((40, 40), 250, np.uint8)
    canvas[10:30, 18:22] = 5  # a dark stroke on light paper
    Image.fromarray(canvas).save(tmp_path / "light.png")
    x = load_image(tmp_path / "light.png", (1, 28, 28))
    assert x.shape == (1, 28, 28) and x.dtype == np.float32
    assert x[0, 14, 14] > 200 and x[0, 2, 2] < 10  # inverted: light ink on a dark background
    assert load_image(tmp_path / "light.png", (1, 28, 28), invert=False)[0, 2, 2] > 200

    Image.fromarray(255 - canvas).save(tmp_path / "dark.png")  # already MNIST-like: kept
    np.testing.assert_allclose(load_image(tmp_path / "dark.png", (1, 28, 28)), x, atol=1)
    assert load_image(tmp_path / "dark.png", (1, 8, 8), max_value=16).max() <= 16

    rgba = np.zeros((40, 40, 4), np.uint8)  # black ink on a transparent background
    rgba[10:30, 18:22] = (0, 0, 0, 255)
    Image.fromarray(rgba, "RGBA").save(tmp_path / "transparent.png")
    t = load_image(tmp_path / "transparent.png", (1, 28, 28))
    assert t[0, 14, 14] > 200 and t[0, 2, 2] < 10

    exif = Image.Exif()
    exif[0x0112] = 6  # a phone photo taken sideways: "rotate 90° clockwise to view"
    Image.fromarray(canvas).save(tmp_path / "sideways.jpg", exif=exif, quality=95)
    upright = load_image(tmp_path / "sideways.jpg", (1, 28, 28))
    assert upright[0, 13:15, 8:20].min() > 150 and upright[0, 2:10, 14].max() < 60  # the stroke lies horizontal


def test_unreadable_files_are_image_errors(tmp_path):
    (tmp_path / "text.png").write_text("not an image")
    Image.fromarray(np.zeros((30, 30, 3), np.uint8)).save(tmp_path / "whole.png")
    data = (tmp_path / "whole.png").read_bytes()
    (tmp_path / "cut.png").write_bytes(data[: len(data) // 2])
    for name, reason in [("text.png", "not an image file"), ("cut.png", "cannot decode"), ("none.png", "no such file")]:
        with pytest.raises(ImageError, match=f"{name}: {reason}"):
            load_image(tmp_path / name, (3, 32, 32))


def _plain_conv_net():
    """A conv net saved by nablab.save without any inference info, taking 8×8 grey images only."""
    return nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.Flatten(), nn.Linear(2 * 6 * 6, 3))


def test_an_image_size_that_cannot_be_guessed_asks_for_it(tmp_path):
    nablab.save(_plain_conv_net(), tmp_path / "conv.safetensors")
    with pytest.raises(WeightsError, match=r"cannot tell the image size Sequential takes: the guessed 1×28×28 does "
                                           r"not run through it .*pass --input-shape C,H,W, or use the run folder"):
        load_classifier(tmp_path / "conv.safetensors")
    classifier = load_classifier(tmp_path / "conv.safetensors", input_shape=(1, 8, 8))
    assert classifier.input_shape == (1, 8, 8) and classifier.classes == ["0", "1", "2"]
    assert "1×8×8 (as given)" in classifier.notes[0]
    with pytest.raises(WeightsError, match=r"the given 1×9×9 does not run through it"):
        load_classifier(tmp_path / "conv.safetensors", input_shape=(1, 9, 9))
    nablab.save(MLP(64, [4], 3), tmp_path / "mlp.safetensors")
    with pytest.raises(WeightsError, match=r"--input-shape 1×4×4 has 16 pixels, but the model's first layer takes 64"):
        load_classifier(tmp_path / "mlp.safetensors", input_shape=(1, 4, 4))


def test_guessing_restores_each_modules_own_mode():
    model = _plain_conv_net()
    model[1].eval()
    guess_inference_info(model, (1, 8, 8))
    assert [m.training for m in model.modules()] == [True, True, False, True, True]
    with pytest.raises(WeightsError):  # a failed guess too
        guess_inference_info(model)
    assert [m.training for m in model.modules()] == [True, True, False, True, True]


def test_models_of_points_are_not_image_classifiers():
    info = {"dataset": "spiral", "classes": ["0", "1", "2"], "input_shape": [2], "max_value": 1.0,
            "preprocess": "scale", "pixel_scale": 1.0, "flatten": True, "statistics": {}}
    with pytest.raises(WeightsError, match=r"the model's input shape \(data set spiral\) is 2, which is not an image: "
                                           r"image files are classified by models that take C×H×W images"):
        Classifier(MLP(2, [4], 3), info)
    with pytest.raises(WeightsError, match=r"is 4×8×8, which is not an image"):
        Classifier(SmallCNN(4, 3, widths=(2,), image_size=8), {**info, "input_shape": [4, 8, 8], "dataset": None})


@pytest.mark.parametrize("mode, suffix, dtype, low, high", [
    ("I;16", "png", np.uint16, 10_000, 60_000),   # would be clipped at 255: all white, inverted to all black
    ("I", "tif", np.int32, 1_000, 300_000),      # both clipped to 255
    ("F", "tif", np.float32, 0.1, 0.9),            # would round to 0 or 1: all black
])
def test_deep_and_float_images_are_stretched_not_clipped(tmp_path, mode, suffix, dtype, low, high):
    ink = np.zeros((40, 40), bool)
    ink[10:30, 18:22] = True  # a dark stroke on light paper
    pixels = np.where(ink, low, high).astype(dtype)
    img = Image.fromarray(pixels)
    assert img.mode == mode
    img.save(tmp_path / f"deep.{suffix}")
    Image.fromarray(np.where(ink, 0, 255).astype(np.uint8)).save(tmp_path / "eight.png")
    x = load_image(tmp_path / f"deep.{suffix}", (1, 28, 28))
    assert x[0, 14, 14] > 200 and x[0, 2, 2] < 10  # inverted like an 8-bit picture: light ink on dark
    np.testing.assert_allclose(x, load_image(tmp_path / "eight.png", (1, 28, 28)), atol=1)
    rgb = load_image(tmp_path / f"deep.{suffix}", (3, 20, 20))  # colour models get three equal channels
    np.testing.assert_allclose(rgb, load_image(tmp_path / "eight.png", (3, 20, 20)), atol=1)
    assert rgb[:, 0, 0].min() == 255 and rgb[:, 10, 10].max() == 0


def test_files_are_classified_in_batches(tmp_path, monkeypatch):
    nablab.manual_seed(0)
    nablab.save(MLP(64, [8], 10), tmp_path / "mlp.safetensors")
    classifier = load_classifier(tmp_path / "mlp.safetensors")
    rng = np.random.default_rng(0)
    for i in range(7):
        Image.fromarray(rng.integers(0, 256, (8, 8), dtype=np.uint8)).save(tmp_path / f"{i}.png")
    whole, _ = classifier.classify_files([tmp_path], k=2)
    sizes, probabilities = [], classifier.probabilities
    monkeypatch.setattr(classifier, "probabilities", lambda x: sizes.append(len(x)) or probabilities(x))
    batched, failures = classifier.classify_files([tmp_path], k=2, batch_size=3)
    assert sizes == [3, 3, 1] and failures == []
    assert [p.path for p in batched] == [p.path for p in whole] == sorted(tmp_path.glob("*.png"))
    for p, q in zip(batched, whole):
        assert [name for name, _ in p.top] == [name for name, _ in q.top]
        np.testing.assert_allclose([v for _, v in p.top], [v for _, v in q.top], rtol=1e-6)


def test_decompression_bombs_are_reported_like_unreadable_files(tmp_path, monkeypatch):
    nablab.save(MLP(64, [8], 10), tmp_path / "mlp.safetensors")
    classifier = load_classifier(tmp_path / "mlp.safetensors")
    Image.fromarray(np.zeros((30, 30), np.uint8)).save(tmp_path / "huge.png")
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(tmp_path / "small.png")
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100)  # 900 pixels: more than twice the limit
    with pytest.raises(ImageError, match="huge.png: too large to read safely"):
        load_image(tmp_path / "huge.png")
    predictions, failures = classifier.classify_files([tmp_path / "huge.png", tmp_path / "small.png"])
    assert [p.path.name for p in predictions] == ["small.png"]
    assert [(path.name, "too large" in reason) for path, reason in failures] == [("huge.png", True)]
