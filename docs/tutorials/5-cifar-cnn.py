# %% [markdown]
# # A CNN on CIFAR-10 (UvA and VU)
#
# Two course reports train convolutional networks on CIFAR-10, the 60,000 small colour photos
# (32×32 pixels, ten classes) that every deep-learning course uses:
#
# - **UvA Deep Learning, assignment 2** trains a VGG-style ConvNet (experiment `uva-cnn`);
# - **VU Amsterdam Deep Learning** sweeps the batch size, learning rate and optimizer of a small
#   CNN (experiment `vu-cifar-cnn`).
#
# This tutorial builds up what those networks are made of, and checks each piece as it goes:
#
# 1. a convolution, computed by hand as *im2col and one matrix product*, then compared with nablab's;
# 2. the gradient of a convolution, derived and checked against central differences;
# 3. max pooling, forward and backward;
# 4. the two networks of the reports;
# 5. data augmentation (random crops and flips), shown on images;
# 6. training the small CNN, with its curves;
# 7. its test accuracy, beside the reports' figures;
# 8. what it gets wrong: the confusion matrix and misclassified photos;
# 9. what its first layer learned: the filters as images.
#
# **Budget.** The page you are reading was built at the budget the environment variable
# `NABLAB_TUTORIAL_BUDGET` names. At `quick` (what CI builds) the network trains for a few hundred
# steps on a small subset, in seconds. At `full` it trains the VU report's network on the whole
# training set for two epochs (9 minutes on two shared CPU cores; its figures are recorded in
# section 7). Run it yourself with
# `NABLAB_TUTORIAL_BUDGET=full python docs/tutorials/5-cifar-cnn.py`.

# %%
import os
import time

import matplotlib.pyplot as plt
import numpy as np

import nablab
import nablab.nn.functional as F
from nablab import data, models, nn, optim
from nablab.data import batch_transforms
from nablab.lab import experiments

BUDGET = os.environ.get("NABLAB_TUTORIAL_BUDGET", "quick")
if BUDGET not in ("quick", "full"):
    raise ValueError("NABLAB_TUTORIAL_BUDGET must be 'quick' or 'full', "
                     f"got {BUDGET!r}")
started = time.perf_counter()
nablab.manual_seed(0)
rng = np.random.default_rng(0)
print("budget:", BUDGET)

# %% [markdown]
# ## The data
#
# `nablab.data.load("cifar10")` reads the official binary files (from `$NABLAB_DATA`, the cache,
# or a download), checks their checksums, and holds 5,000 training images out for validation. The
# images stay `uint8`, shaped N×C×H×W: 3 colour channels of 32×32 pixels.

# %%
cifar = data.load("cifar10", progress=False)
classes = cifar.classes
for name in ("train", "val", "test"):
    print(f"{name:<5}", getattr(cifar, name).x.shape)


def show_images(images, titles, cols=8, size=1.3):
    """A grid of uint8 C×H×W images with a title under each."""
    rows = -(-len(images) // cols)
    fig, axes = plt.subplots(rows, cols, squeeze=False,
                             figsize=(cols * size, rows * (size + 0.25)))
    for ax in axes.flat:
        ax.axis("off")
    for ax, image, title in zip(axes.flat, images, titles):
        ax.imshow(image.transpose(1, 2, 0), interpolation="nearest")
        ax.set_title(title, fontsize=8)
    fig.tight_layout()
    plt.show()


first = [int(np.flatnonzero(cifar.train.y == c)[0]) for c in range(10)]
show_images(cifar.train.x[first], classes, cols=10)

# %% [markdown]
# ## 1. A convolution is one matrix product
#
# A convolution layer slides a small kernel over the image. With input x (N, C, H, W) and weight
# w (O, C, kh, kw), output channel o at position (i, j) is
#
#     y[n, o, i, j] = b[o] + Σ_{c, u, v} w[o, c, u, v] · x[n, c, i·s + u, j·s + v]
#
# (s is the stride; the input is padded with p zeros first). Each output is a dot product of the
# kernel with one *window* of the input. Computing millions of small dot products one by one in
# Python would be hopeless, so nablab does what most frameworks do:
#
# 1. **im2col**: copy every window into one row of a matrix `cols`, of shape
#    (N·Ho·Wo) × (C·kh·kw) — one row per output position;
# 2. **one GEMM** (general matrix multiply): `Y = cols · Wᵀ`, where W is the weight reshaped to
#    O × (C·kh·kw). BLAS does this product at close to the CPU's peak speed.
#
# The output size per axis is Ho = ⌊(H + 2p − kh) / s⌋ + 1. Let us do it by hand on a small
# example with stride 2 and padding 1, and compare with `F.conv2d`.

# %%
x = rng.standard_normal((2, 3, 7, 7))   # N=2 images, C=3 channels, 7×7
w = rng.standard_normal((4, 3, 3, 3))   # O=4 kernels, 3×3 over 3 channels
b = rng.standard_normal(4)
stride, pad = 2, 1

xpad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
# every 3×3 window, (N, C, Ho, Wo, kh, kw): a strided view, no copy yet
windows = np.lib.stride_tricks.sliding_window_view(xpad, (3, 3), axis=(2, 3))
windows = windows[:, :, ::stride, ::stride]
n, c, ho, wo, kh, kw = windows.shape
# im2col: the one copy, one row per output position (n, i, j)
cols = windows.transpose(0, 2, 3, 1, 4, 5).reshape(n * ho * wo, c * kh * kw)
W = w.reshape(4, -1)                    # O × (C·kh·kw)
Y = cols @ W.T + b                      # the one GEMM: (N·Ho·Wo) × O
y_by_hand = Y.reshape(n, ho, wo, 4).transpose(0, 3, 1, 2)

y_nablab = F.conv2d(nablab.tensor(x), nablab.tensor(w), nablab.tensor(b),
                    stride=stride, padding=pad).numpy()
print("cols:", cols.shape, " W:", W.shape, " y:", y_by_hand.shape)
print("largest difference from F.conv2d:", np.abs(y_by_hand - y_nablab).max())
assert ho == (7 + 2 * pad - 3) // stride + 1 == 4
assert np.allclose(y_by_hand, y_nablab, atol=1e-12)

# %% [markdown]
# The price of im2col is memory: each input pixel is copied into up to kh·kw = 9 rows. For the
# small CNN's first layer on a batch of 50 CIFAR images, `cols` is (50·32·32) × (3·3·3) = 51,200 × 27.
# The code is in `src/nablab/ops/conv.py` (the readable reference; a faster CPU kernel for the
# common stride-1 case lives in `src/nablab/kernels/cpu/conv.py`).
#
# ## 2. The gradient of a convolution
#
# Because the forward pass is a matrix product, the backward pass is two more. Write G = dL/dY as a
# matrix of the same shape as Y, (N·Ho·Wo) × O. From Y = cols · Wᵀ + b:
#
#     dL/dW = Gᵀ · cols           dL/db = Σ over the rows of G
#     dL/dcols = G · W            dL/dx = col2im(dL/dcols)
#
# **col2im** undoes im2col: it adds each row of dL/dcols back onto the input pixels that window
# was read from. Windows overlap when the stride is smaller than the kernel, so a pixel collects
# gradient from several windows — it is a sum, not a copy.
#
# We compute all three by hand for a random upstream gradient and compare with nablab's backward.

# %%
xt = nablab.tensor(x, requires_grad=True)
wt = nablab.tensor(w, requires_grad=True)
bt = nablab.tensor(b, requires_grad=True)
upstream = rng.standard_normal(y_by_hand.shape)  # dL/dy: L = Σ upstream ⊙ y
y = F.conv2d(xt, wt, bt, stride=stride, padding=pad)
(y * nablab.tensor(upstream)).sum().backward()

# G: (N·Ho·Wo) × O, its rows in the order of the rows of cols
G = upstream.transpose(0, 2, 3, 1).reshape(-1, 4)
dW = (G.T @ cols).reshape(w.shape)
db = G.sum(axis=0)
dwindows = (G @ W).reshape(n, ho, wo, c, kh, kw).transpose(0, 3, 1, 2, 4, 5)
# col2im: for each kernel offset (u, v), add the windows' gradients back
# onto the pixels that offset read, one strided slice at a time
dxpad = np.zeros_like(xpad)
for u in range(kh):
    for v in range(kw):
        rows_read = slice(u, u + stride * ho, stride)
        cols_read = slice(v, v + stride * wo, stride)
        dxpad[:, :, rows_read, cols_read] += dwindows[..., u, v]
dx = dxpad[:, :, pad:-pad, pad:-pad]

for name, ours, t in (("dL/dx", dx, xt), ("dL/dW", dW, wt), ("dL/db", db, bt)):
    difference = np.abs(ours - t.grad.numpy()).max()
    print(f"{name}: largest difference from nablab's {difference:.1e}")
    assert np.allclose(ours, t.grad.numpy(), atol=1e-10)

# %% [markdown]
# Both agree, but both could be wrong in the same way. The independent check is the numerical
# gradient: perturb each input element by ±ε and watch the loss change,
# ∂L/∂xᵢ ≈ (L(x + ε eᵢ) − L(x − ε eᵢ)) / 2ε. `nablab.gradcheck.check` does this in float64 for every
# element of every input and returns the largest relative error per input.

# %%
def conv(a, k, c):
    return F.conv2d(a, k, c, stride=stride, padding=pad)


errors = nablab.gradcheck.check(conv, [x, w, b])
print("relative errors (x, w, b):", ", ".join(f"{e:.1e}" for e in errors))
assert max(errors) < 1e-6, errors

# %% [markdown]
# ## 3. Pooling
#
# A 2×2 max pool keeps the largest value of each 2×2 block and halves the height and width. It
# has no weights. It makes the features a little insensitive to small shifts, and it cuts the
# cost of the layers after it by four.
#
# Its gradient is a *router*: the maximum of each window gets the whole upstream gradient, the
# other three elements get zero (they did not influence the output).

# %%
image = nablab.tensor([[[[1.0, 3.0, 2.0, 0.0],
                         [4.0, 2.0, 1.0, 5.0],
                         [0.0, 1.0, 6.0, 2.0],
                         [2.0, 3.0, 1.0, 1.0]]]], requires_grad=True)
pooled = F.max_pool2d(image, 2)
pooled.sum().backward()
print("max pool:\n", pooled.numpy()[0, 0])
print("gradient of its sum (1 at each window's maximum):\n",
      image.grad.numpy()[0, 0])
assert pooled.numpy()[0, 0].tolist() == [[4.0, 5.0], [3.0, 6.0]]
assert image.grad.numpy().sum() == 4

# %% [markdown]
# ## 4. The networks of the reports
#
# The **VU report** trains a small CNN. It does not give its network, so the experiment assumes
# nablab's `SmallCNN`: two blocks of two 3×3 convolutions (32, then 64 channels, each followed by
# ReLU) and a 2×2 max pool, then a 128-unit hidden layer and the 10 class scores. Pushing one image
# through it layer by layer shows how the shape changes — convolutions with padding 1 keep the
# height and width, each pool halves them — and where the work is: almost all of it in the
# convolutions, although most of the *parameters* sit in the first linear layer (64·8·8 → 128).

# %%
vu = experiments.load("vu-cifar-cnn")
uva = experiments.load("uva-cnn")


def layer_table(model, name):
    """Push one image through ``model`` layer by layer. Print the output's
    shape after each convolution, pool and linear layer, with the layer's
    multiply-adds per image (Ho·Wo·O·C·kh·kw for a conv); return the sum."""
    h, total = nablab.tensor(cifar.train.x[:1] / 255.0, dtype="float32"), 0
    print(f"{name}:")
    for layer in model:
        h = layer(h)
        macs = 0
        if isinstance(layer, (nn.Conv2d, nn.Linear)):
            macs = layer.weight.numpy().size  # once per output position
        if isinstance(layer, nn.Conv2d):
            macs *= h.shape[2] * h.shape[3]
        total += macs
        if macs or isinstance(layer, nn.MaxPool2d):
            shape = str(tuple(h.shape[1:]))
            print(f"  {type(layer).__name__:<10} → {shape:<14} "
                  f"{macs / 1e6:6.2f} M multiply-adds")
    print(f"  {nn.count_parameters(model):,} parameters, "
          f"{total / 1e6:.1f} M multiply-adds per image")
    return total


hidden = vu["base"]["model"]["hidden"][0]
small = models.SmallCNN(hidden=hidden)
small_macs = layer_table(small, f"SmallCNN(hidden={hidden})")

# %% [markdown]
# The **UvA report** trains a VGG-style network: eight 3×3 convolutions (64 to 512 channels), each
# followed by batch norm and ReLU, and five 3×3 max pools with stride 2 that take 32×32 down to 1×1.
# Count its multiply-adds the same way:

# %%
vgg_macs = layer_table(models.VGGNet(), "VGGNet")
print(f"VGGNet: {vgg_macs / small_macs:.1f}× the small CNN's multiply-adds")

# %% [markdown]
# That is beyond this page's budget on a CPU, so we train the small CNN here. The VGG network's
# run with the report's recipe is recorded, with its time, in
# [the experiments' results](../../results/experiments/) (§8, `nablab reproduce uva-cnn --variant report`).
#
# ## 5. Data augmentation
#
# A photo of a horse is still a horse when it is shifted by a few pixels or mirrored left to right.
# **Augmentation** uses that: every time an image is drawn for training it is changed a little, so
# the network never sees exactly the same picture twice and has to learn what does not change.
# The usual CIFAR recipe is
#
# - `RandomCrop(32, padding=4)`: pad with 4 black pixels on every side, cut a random 32×32 window
#   (a shift of up to 4 pixels in each direction);
# - `RandomHorizontalFlip()`: mirror with probability ½.
#
# Below: one training photo per row, the original on the left, then four random draws of its
# augmented version (a new draw every time the loader hands the photo out).

# %%
augment = batch_transforms.Compose([
    batch_transforms.RandomCrop(32, padding=4),
    batch_transforms.RandomHorizontalFlip(),
])
originals = cifar.train.x[first[:4]]
draws = [augment(originals, np.random.default_rng(seed)) for seed in range(4)]
grid = np.stack([originals, *draws], axis=1).reshape(-1, 3, 32, 32)
titles = [t for k in range(4)
          for t in (classes[k], "draw 1", "draw 2", "draw 3", "draw 4")]
show_images(grid, titles, cols=5, size=1.2)
assert all(d.shape == originals.shape and d.dtype == np.uint8 for d in draws)

# %% [markdown]
# Augmentation pays off in long runs, where a network would otherwise memorise the training set
# (the `uva-cnn` experiment's own recipe uses it over 30 epochs). In the short runs of this page it
# only makes the task harder, so the training below does without it.
#
# ## 6. Training
#
# The recipe is the VU report's best point: Adam, learning rate 3·10⁻³, batch 50. Inputs are
# standardised per channel with the mean and standard deviation of the *training* images
# (`NormalizeChannels`, fitted once and used for validation and test too).
#
# At `quick` the network is a narrower SmallCNN (8 and 16 channels, no hidden layer) trained with
# batches of 10 on a small subset; at `full` it is the report's network on all 45,000 training
# images for two epochs.

# %%
RECIPES = {
    "quick": dict(widths=(8, 16), hidden=None, batch_size=10, steps=200,
                  eval_every=50, train_images=1000, eval_images=250,
                  test_images=500),
    "full": dict(widths=(32, 64), hidden=hidden, batch_size=50, steps=1800,
                 eval_every=300, train_images=None, eval_images=None,
                 test_images=None),
}
recipe = RECIPES[BUDGET]


def first_images(split, count):
    """The first ``count`` images of ``split`` (all of them for None)."""
    if count is None:
        return split
    return data.Split(split.x[:count], split.y[:count])


train_split = first_images(cifar.train, recipe["train_images"])
val_split = first_images(cifar.val, recipe["eval_images"])
preprocess = batch_transforms.NormalizeChannels(255.0).fit(train_split.x)
print("per-channel mean:", preprocess.mean.ravel().round(3))
print("per-channel std: ", preprocess.std.ravel().round(3))
steps, batch_size = recipe["steps"], recipe["batch_size"]
epochs = steps * batch_size / len(train_split.y)
print(f"{len(train_split.y):,} training images, {steps} steps of "
      f"{batch_size} = {epochs:.1f} epochs")

# %% [markdown]
# Two helpers: `predict` runs the network in evaluation mode without recording a graph, and the
# training loop is the one every PyTorch user knows — forward, loss, `zero_grad`, `backward`, `step`.
# Every `eval_every` steps we measure accuracy on the validation images and on a fixed sample of
# training images: the gap between the two is how much the network overfits.

# %%
def predict(model, split, batch_size=500):
    """Class scores (logits) of every image of ``split``, as a NumPy array."""
    batches = data.DataLoader(split, batch_size=batch_size,
                              transform=preprocess)
    model.eval()
    with nablab.no_grad():
        scores = [model(x).numpy() for x, _ in batches]
    model.train()
    return np.concatenate(scores)


def accuracy(model, split):
    return float((predict(model, split).argmax(axis=1) == split.y).mean())


nablab.manual_seed(0)
model = models.SmallCNN(widths=recipe["widths"], hidden=recipe["hidden"])
opt = optim.Adam(model.parameters(), lr=3e-3)
loader = data.DataLoader(train_split, batch_size=batch_size, shuffle=True,
                         seed=0, transform=preprocess)
train_sample = first_images(train_split, len(val_split.y))

every = recipe["eval_every"]
losses, curve, step, tick = [], [], 0, time.perf_counter()
while step < steps:
    for x, y in loader:
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
        step += 1
        if step % every == 0:
            train_acc = accuracy(model, train_sample)
            val_acc = accuracy(model, val_split)
            curve.append((step, train_acc, val_acc))
            print(f"step {step:5d}  loss {np.mean(losses[-every:]):.3f}  "
                  f"train acc {train_acc:.3f}  val acc {val_acc:.3f}")
        if step == steps:
            break
seconds = time.perf_counter() - tick
print(f"{step} steps in {seconds:.1f} s "
      f"({step * batch_size / seconds:.0f} images/s, evaluation included)")

# %%
window = max(1, len(losses) // 25)
fig, (left, right) = plt.subplots(1, 2, figsize=(11, 3.8))
left.plot(losses, alpha=0.3, label="per step")
moving_mean = np.convolve(losses, np.ones(window) / window, "valid")
left.plot(np.arange(window - 1, len(losses)), moving_mean,
          label=f"mean of {window} steps")
left.set(xlabel="step", ylabel="cross-entropy loss", title="Training loss")
left.legend()
steps_at, train_acc, val_acc = zip(*curve)
right.plot(steps_at, train_acc, "-o", label="training (fixed sample)")
right.plot(steps_at, val_acc, "-s", label="validation")
right.axhline(0.1, color="gray", linestyle=":", label="chance")
right.set(xlabel="step", ylabel="accuracy", title="Accuracy", ylim=(0, 1))
right.legend()
for ax in (left, right):
    ax.grid(alpha=0.3)
fig.tight_layout()
plt.show()
assert moving_mean[-1] < moving_mean[0], "the loss did not fall"

# %% [markdown]
# ## 7. Test accuracy, and the reports' figures
#
# The test images are used once, at the end. Beside our number are the published figures, read from
# the experiments' files (`experiments/vu-cifar-cnn.toml`, `experiments/uva-cnn.toml`). Note what each
# figure measures: the VU report gives its best *validation* accuracy after a sweep, the UvA report
# the *test* accuracy of the much larger VGG network.

# %%
test_split = first_images(cifar.test, recipe["test_images"])
test_scores = predict(model, test_split)
test_pred = test_scores.argmax(axis=1)
test_acc = float((test_pred == test_split.y).mean())
figures = [
    ("VU report: small CNN, best val. (sweep, 10 epochs)",
     vu["published"]["best_val_acc"]),
    ("UvA report: VGG-style ConvNet, test",
     uva["variants"][0]["published"]["test_acc"]),
    (f"this page ({BUDGET}): SmallCNN{recipe['widths']}, test",
     test_acc),
]
for label, value in figures:
    print(f"{label:<52} {value:.3f}")
print(f"(our test accuracy over {len(test_split.y):,} test images)")
assert test_acc > 0.2, f"test accuracy {test_acc:.3f}: chance is 0.1"

# %% [markdown]
# **The full run.** A full run — `NABLAB_TUTORIAL_BUDGET=full OPENBLAS_NUM_THREADS=1`, 2026-12-02,
# this 2-core machine (shared with other work; 9 minutes for the whole page, 504 s of them for the
# 1,800 training steps and their evaluations, 179 images/s) — trained the report's SmallCNN
# (591,274 parameters) for two epochs and reached:
#
#     step                      300    600    900   1200   1500   1800
#     training (fixed sample)  0.457  0.559  0.586  0.605  0.661  0.669
#     validation               0.440  0.544  0.577  0.588  0.628  0.637
#
#     test accuracy (10,000 images)   0.629
#     VU report, best validation      0.651   (after a sweep, 10 epochs per point)
#
# Two epochs come within 0.014 of the VU report's best validation accuracy, which took ten. The
# experiment's own run of that point (`nablab sweep`, ten epochs) peaked at 0.682 validation
# accuracy in epoch 7 (section 9 of the [experiments page](../../results/experiments/)). The
# full run's curves and confusion matrix:
#
# ![Training loss and accuracy of the full run](../figures/5-cifar-full-curves.png)
#
# ![Confusion matrix of the full run on the 10,000 test images](../figures/5-cifar-full-confusion.png)
#
# Its most common mistakes: dogs taken for cats (256 of 1,000 dogs), airplanes for ships (232) and
# trucks for cars (212).
#
# ## 8. What the network confuses
#
# Accuracy is one number; the **confusion matrix** shows where the errors go. Row i, column j
# counts the test images of class i that the network called j; the diagonal holds the correct
# answers. `np.add.at` adds 1 at (true, predicted) for every image.

# %%
confusion = np.zeros((10, 10), dtype=np.int64)
np.add.at(confusion, (test_split.y, test_pred), 1)
rates = confusion / confusion.sum(axis=1, keepdims=True)
fig, ax = plt.subplots(figsize=(6.5, 5.5))
im = ax.imshow(rates, cmap="Blues", vmin=0, vmax=1)
for i in range(10):
    for j in range(10):
        ax.text(j, i, confusion[i, j], ha="center", va="center", fontsize=7,
                color="white" if rates[i, j] > 0.5 else "black")
ax.set_xticks(range(10), classes, rotation=45, ha="right")
ax.set_yticks(range(10), classes)
ax.set(xlabel="predicted class", ylabel="true class",
       title="Confusion matrix (test images)")
fig.colorbar(im, ax=ax, fraction=0.046, label="share of the true class")
fig.tight_layout()
plt.show()
assert confusion.sum() == len(test_split.y)
assert np.trace(confusion) == (test_pred == test_split.y).sum()
off = confusion - np.diag(np.diag(confusion))
true, said = np.unravel_index(off.argmax(), off.shape)
print(f"most common mistake: {classes[true]} taken for {classes[said]} "
      f"({off[true, said]} times)")

# %% [markdown]
# In a well-trained network the mistakes mostly make sense: cats and dogs, cars and trucks, deer
# and horses share shapes and colours at 32×32 pixels. (After the quick budget's few hundred steps
# many answers are still guesses.) Here are some misclassified test photos, each with the
# network's answer and how sure it was (its softmax probability).

# %%
probabilities = F.softmax(nablab.tensor(test_scores), dim=1).numpy()
wrong = np.flatnonzero(test_pred != test_split.y)[:12]
titles = [f"{classes[test_split.y[i]]} → {classes[test_pred[i]]}\n"
          f"{probabilities[i, test_pred[i]]:.0%} sure" for i in wrong]
show_images(test_split.x[wrong], titles, cols=6, size=1.6)

# %% [markdown]
# ## 9. What the first layer learned
#
# Each of the first layer's kernels is a 3×3×3 block of weights: a tiny colour image, drawn here
# with each one scaled to its own range. The first layer computes, at every pixel, how much the
# 3×3 patch around it looks like each kernel. Large first-layer kernels (AlexNet's 11×11) are known
# to learn oriented edges and colour blobs; at 3×3 there is little room for a shape, and what you
# can see is mostly colour: kernels that respond to one colour against another.

# %%
kernels = model[0].weight.numpy()       # (out channels, 3, 3, 3)
low = kernels.min(axis=(1, 2, 3), keepdims=True)
high = kernels.max(axis=(1, 2, 3), keepdims=True)
scaled = ((kernels - low) / (high - low) * 255).astype(np.uint8)
show_images(scaled, [f"filter {i}" for i in range(len(scaled))],
            cols=min(16, len(scaled)), size=0.75)
print(f"the whole page ran in {time.perf_counter() - started:.1f} s "
      f"at the {BUDGET} budget")

# %% [markdown]
# ## Where to go from here
#
# - Turn augmentation on (`transform=batch_transforms.Compose([augment, preprocess])` in the loader)
#   and train for ten epochs or more. Watch the gap between training and validation accuracy.
# - Add `batch_norm=True` to `SmallCNN` and try a learning rate of 10⁻².
# - Run the reports' experiments themselves: `nablab reproduce uva-cnn --variant report` and
#   `nablab sweep vu-cifar-cnn`; their results are in [the experiments' page](../../results/experiments/).
