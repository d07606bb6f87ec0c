"""L-BFGS (Liu & Nocedal 1989), PyTorch's form: a quasi-Newton method that re-evaluates the loss
through a closure, several times per ``step``."""

from __future__ import annotations

from ..backend import get_array_module
from ..grad_mode import enable_grad
from .line_search import strong_wolfe
from .optimizer import Optimizer, check_settings


def two_loop_direction(grad, old_dirs, old_stps, ro, h_diag, al):
    """The L-BFGS direction d = −H∇f from the last m curvature pairs (sᵢ = step, yᵢ = change of
    gradient, ρᵢ = 1/(yᵢ·sᵢ)) by the two-loop recursion, with H₀ = h_diag · I:

        q ← −∇f;  for i = m−1 … 0:  αᵢ = ρᵢ sᵢ·q,  q ← q − αᵢ yᵢ
        r ← h_diag q;  for i = 0 … m−1:  βᵢ = ρᵢ yᵢ·r,  r ← r + (αᵢ − βᵢ) sᵢ
        d = r

    ``al`` is the list the αᵢ are kept in (PyTorch keeps it in the optimizer's state)."""
    q = -grad
    for i in range(len(old_dirs) - 1, -1, -1):
        al[i] = old_stps[i].dot(q) * ro[i]
        q -= al[i] * old_dirs[i]
    r = q * h_diag
    for i in range(len(old_dirs)):
        beta = old_dirs[i].dot(r) * ro[i]
        r += (al[i] - beta) * old_stps[i]
    return r


class LBFGS(Optimizer):
    """``LBFGS(params, lr=1, max_iter=20, max_eval=None, tolerance_grad=1e-7, tolerance_change=1e-9,
    history_size=100, line_search_fn=None)``; ``step(closure)`` runs up to ``max_iter`` iterations.

    One iteration at x with flat gradient g (all parameters as one vector):

        sₖ = t d (the last step), yₖ = g − g_prev; the pair is kept if yₖ·sₖ > 10⁻¹⁰, with
        h_diag = yₖ·sₖ / yₖ·yₖ, at most ``history_size`` pairs (:func:`two_loop_direction`)
        d = −g on the very first iteration, else the two-loop direction
        t = min(1, 1/‖g‖₁)·η on the very first iteration, else η; or the strong Wolfe step
            (:func:`~nablab.optim.line_search.strong_wolfe`)
        x ← x + t d

    It stops when max |g| ≤ tolerance_grad, the slope g·d > −tolerance_change, max |t d| or the
    change of the loss falls below tolerance_change, or after ``max_eval`` closure calls. The
    state (directions, steps, counters) is kept across calls to ``step`` on the first parameter,
    as flat vectors over all parameters. One parameter group only, as in PyTorch.
    """

    state_like_params = False  # the state holds flat vectors over all parameters

    def __init__(self, params, lr: float = 1, max_iter: int = 20, max_eval: int | None = None,
                 tolerance_grad: float = 1e-7, tolerance_change: float = 1e-9, history_size: int = 100,
                 line_search_fn: str | None = None):
        check_settings("LBFGS", lr=lr)
        if line_search_fn not in (None, "strong_wolfe"):
            raise ValueError(f"LBFGS's line_search_fn must be None or 'strong_wolfe', got {line_search_fn!r}")
        if max_eval is None:
            max_eval = max_iter * 5 // 4
        super().__init__(params, dict(lr=lr, max_iter=max_iter, max_eval=max_eval, tolerance_grad=tolerance_grad,
                                      tolerance_change=tolerance_change, history_size=history_size,
                                      line_search_fn=line_search_fn))
        if len(self.param_groups) != 1:
            raise ValueError("LBFGS takes one parameter group (no per-parameter settings)")

    def add_param_group(self, param_group: dict) -> None:
        if self.param_groups:
            raise ValueError("LBFGS takes one parameter group (no per-parameter settings)")
        super().add_param_group(param_group)

    def _flat_grad(self):
        params = self.param_groups[0]["params"]
        xp = get_array_module(params[0].data)
        return xp.concatenate([(p.grad.data if p.grad is not None else xp.zeros_like(p.data)).reshape(-1)
                               for p in params])

    def _move(self, t, d) -> None:
        """x ← x + t d, each parameter's slice of d in place."""
        start = 0
        for p in self.param_groups[0]["params"]:
            size = p.data.size
            p.data += t * d[start:start + size].reshape(p.data.shape)
            p._version += 1
            start += size

    def _evaluate(self, closure):
        with enable_grad():
            loss = closure()
        return float(loss), self._flat_grad()

    def _evaluate_along(self, closure, d):
        """φ(t) for the line search: loss and flat gradient at x + t d, x left as it was."""
        params = self.param_groups[0]["params"]

        def evaluate(t):
            saved = [p.data.copy() for p in params]
            self._move(t, d)
            loss, grad = self._evaluate(closure)
            for p, data in zip(params, saved):
                p.data[...] = data
                p._version += 1
            return loss, grad
        return evaluate

    def step(self, closure):
        """Run up to ``max_iter`` iterations; ``closure()`` re-evaluates the loss (and its gradients).

        Returns the loss of the first evaluation."""
        group = self.param_groups[0]
        lr, history_size = group["lr"], group["history_size"]
        tol_grad, tol_change = group["tolerance_grad"], group["tolerance_change"]
        state = self.state[group["params"][0]]
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)

        with enable_grad():
            first_loss = closure()
        loss, grad = float(first_loss), self._flat_grad()
        evals = 1
        state["func_evals"] += 1
        if abs(grad).max() <= tol_grad:
            return first_loss

        d, t = state.get("d"), state.get("t")
        old_dirs, old_stps, ro = state.get("old_dirs"), state.get("old_stps"), state.get("ro")
        h_diag, prev_grad, prev_loss = state.get("H_diag"), state.get("prev_flat_grad"), state.get("prev_loss")
        for iteration in range(1, group["max_iter"] + 1):
            state["n_iter"] += 1
            if state["n_iter"] == 1:
                d, old_dirs, old_stps, ro, h_diag = -grad, [], [], [], 1
            else:
                y, s = grad - prev_grad, d * t
                ys = y.dot(s)
                if ys > 1e-10:
                    if len(old_dirs) == history_size:
                        del old_dirs[0], old_stps[0], ro[0]
                    old_dirs.append(y)
                    old_stps.append(s)
                    ro.append(1.0 / ys)
                    h_diag = ys / y.dot(y)
                al = state.setdefault("al", [None] * history_size)
                d = two_loop_direction(grad, old_dirs, old_stps, ro, h_diag, al)
            prev_grad = grad.copy()
            prev_loss = loss
            t = min(1.0, 1.0 / float(abs(grad).sum())) * lr if state["n_iter"] == 1 else lr
            gtd = float(grad.dot(d))
            if gtd > -tol_change:  # not a descent direction
                break

            used = 0
            if group["line_search_fn"] == "strong_wolfe":
                loss, grad, t, used = strong_wolfe(self._evaluate_along(closure, d), t, d, loss, grad, gtd,
                                                   max_ls=group["max_eval"] - evals)
                self._move(t, d)
                converged = abs(grad).max() <= tol_grad
            else:
                self._move(t, d)
                converged = False
                if iteration != group["max_iter"]:
                    loss, grad = self._evaluate(closure)
                    converged = abs(grad).max() <= tol_grad
                    used = 1
            evals += used
            state["func_evals"] += used

            if (iteration == group["max_iter"] or evals >= group["max_eval"] or converged
                    or abs(d * t).max() <= tol_change or abs(loss - prev_loss) < tol_change):
                break

        state.update(d=d, t=t, old_dirs=old_dirs, old_stps=old_stps, ro=ro, H_diag=h_diag,
                     prev_flat_grad=prev_grad, prev_loss=prev_loss)
        return first_loss
