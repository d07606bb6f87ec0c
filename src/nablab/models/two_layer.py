"""The classic two-layer network of the course reports, with gradients derived by hand.

input → affine → ReLU → affine → softmax, trained with cross-entropy and an L2 penalty.
Written directly in NumPy (no autodiff) so that it cross-checks the engine::

    h = max(0, X W₁ + b₁)                      scores s = h W₂ + b₂
    pᵢⱼ = e^(sᵢⱼ) / Σₖ e^(sᵢₖ)                  L = −(1/N) Σᵢ log pᵢ,yᵢ + reg (‖W₁‖² + ‖W₂‖²)

    ∂L/∂s  = (p − onehot(y)) / N
    ∂L/∂W₂ = hᵀ ∂L/∂s + 2 reg W₂               ∂L/∂b₂ = Σᵢ ∂L/∂sᵢ
    ∂L/∂h  = ∂L/∂s W₂ᵀ,  zeroed where h = 0
    ∂L/∂W₁ = Xᵀ ∂L/∂h + 2 reg W₁               ∂L/∂b₁ = Σᵢ ∂L/∂hᵢ

Weights are (in × out), the layout of the reports (``nablab.nn.Linear`` stores the transpose).
"""

from __future__ import annotations

import numpy as np


class TwoLayerNet:
    """``TwoLayerNet(input_size, hidden_size, output_size, std=1e-4)``.

    W₁ and W₂ are ``std · N(0, 1)`` drawn (W₁ first) from NumPy's global generator, so that
    ``np.random.seed(0)`` reproduces the published numbers; biases start at zero.
    """

    def __init__(self, input_size: int, hidden_size: int, output_size: int, std: float = 1e-4):
        self.params = {
            "W1": std * np.random.randn(input_size, hidden_size),
            "b1": np.zeros(hidden_size),
            "W2": std * np.random.randn(hidden_size, output_size),
            "b2": np.zeros(output_size),
        }

    def _forward(self, X):
        p = self.params
        h = np.maximum(0, X @ p["W1"] + p["b1"])
        scores = h @ p["W2"] + p["b2"]
        shifted = scores - scores.max(axis=1, keepdims=True)
        exp = np.exp(shifted)
        probs = exp / exp.sum(axis=1, keepdims=True)
        return h, probs, shifted - np.log(exp.sum(axis=1, keepdims=True))

    def loss(self, X, y=None, reg: float = 0.0):
        """Softmax probabilities (N×C) without ``y``; with ``y``, ``(loss, grads)`` as above."""
        X = np.asarray(X)
        h, probs, log_probs = self._forward(X)
        if y is None:
            return probs
        y = np.asarray(y)
        if y.shape != (X.shape[0],):
            raise ValueError(f"labels must have shape ({X.shape[0]},), got {y.shape}")
        p, n = self.params, X.shape[0]
        rows = np.arange(n)
        loss = -log_probs[rows, y].mean() + reg * (np.sum(p["W1"] ** 2) + np.sum(p["W2"] ** 2))

        dscores = probs.copy()
        dscores[rows, y] -= 1
        dscores /= n
        dh = (dscores @ p["W2"].T) * (h > 0)
        grads = {
            "W2": h.T @ dscores + 2 * reg * p["W2"],
            "b2": dscores.sum(axis=0),
            "W1": X.T @ dh + 2 * reg * p["W1"],
            "b1": dh.sum(axis=0),
        }
        return loss, grads

    def to_module(self):
        """The same network as a ``nablab.models.MLP`` (float64, weights transposed to (out, in))."""
        from .mlp import MLP

        d, h = self.params["W1"].shape
        mlp = MLP(d, [h], self.params["W2"].shape[1])
        state = {"0.weight": self.params["W1"].T, "0.bias": self.params["b1"],
                 "2.weight": self.params["W2"].T, "2.bias": self.params["b2"]}
        for name, p in mlp.named_parameters():
            p.data = np.array(state[name], dtype=np.float64)
        return mlp

    def predict(self, X):
        """The most probable class of each row of X."""
        return np.argmax(self._forward(np.asarray(X))[1], axis=1)

    def train(self, X, y, X_val, y_val, learning_rate: float = 1e-3, learning_rate_decay: float = 0.95,
              reg: float = 5e-6, num_iters: int = 100, batch_size: int = 200, verbose: bool = False,
              on_epoch=None):
        """Minibatch SGD as in the reports: batches sampled with replacement from NumPy's global
        generator; once per epoch (every max(N // batch_size, 1) iterations, starting after the
        first) the training accuracy of the current batch and the validation accuracy are
        recorded and the rate decays.

        The reports' code computed N / batch_size as a float, so for batch sizes that do not
        divide N (600 for 49,000 images) its ``it % iterations_per_epoch == 0`` held only at
        it = 0 and the rate never decayed again; the integer division here decays every epoch.
        ``on_epoch(epoch, val_acc)``, if given, is called after each of those records.
        """
        num_train = X.shape[0]
        iterations_per_epoch = max(num_train // batch_size, 1)
        history = {"loss_history": [], "train_acc_history": [], "val_acc_history": []}
        for it in range(num_iters):
            idx = np.random.choice(num_train, batch_size)
            X_batch, y_batch = X[idx], y[idx]
            loss, grads = self.loss(X_batch, y_batch, reg=reg)
            history["loss_history"].append(float(loss))
            for name, g in grads.items():
                self.params[name] -= learning_rate * g
            if verbose and it % 100 == 0:
                print(f"iteration {it} / {num_iters}: loss {loss:f}")
            if it % iterations_per_epoch == 0:
                history["train_acc_history"].append(float((self.predict(X_batch) == y_batch).mean()))
                history["val_acc_history"].append(float((self.predict(X_val) == y_val).mean()))
                learning_rate *= learning_rate_decay
                if on_epoch is not None:
                    on_epoch(len(history["val_acc_history"]), history["val_acc_history"][-1])
        return history


def toy_problem():
    """The reports' toy check: ``np.random.seed(0)``, ``TwoLayerNet(4, 10, 3, std=1e-1)``, then
    ``np.random.seed(1)``, X = 10 · N(0, 1) of shape 5×4 and y = [0, 1, 2, 2, 1].

    Returns ``(net, X, y)``; the published probabilities and loss (reg 0.05) follow from these.
    """
    np.random.seed(0)
    net = TwoLayerNet(4, 10, 3, std=1e-1)
    np.random.seed(1)
    X = 10 * np.random.randn(5, 4)
    return net, X, np.array([0, 1, 2, 2, 1])
