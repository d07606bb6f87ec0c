"""``nablab gradcheck``: every op's and TwoLayerNet's gradients against central differences, on the
CPU kernels and on the reference ops (or on one of them)."""

from __future__ import annotations


def add_parser(sub) -> None:
    check = sub.add_parser("gradcheck", help="check every op's and TwoLayerNet's gradients numerically")
    check.add_argument("--eps", type=float, default=1e-6, help="central-difference step (default 1e-6)")
    check.add_argument("--path", choices=["both", "kernels", "reference"], default="both",
                       help="which implementations to check: the CPU kernels, the reference ops, or both (default)")
    check.set_defaults(func=run)


def _check_ops(eps, width) -> float:
    """Print every case's errors; return the worst error as a multiple of its limit."""
    from .. import gradcheck_cases

    worst = 0.0
    for name, case, errors in gradcheck_cases.run(eps=eps):
        limit = 1e-8 if case.smooth else 1e-6
        worst = max(worst, max(errors) / limit)
        status = "ok" if max(errors) < limit else "FAIL"
        print(f"{name:{width}s} " + "  ".join(f"{e:.1e}" for e in errors) + f"   (< {limit:.0e}) {status}")
    return worst


def run(args) -> int:
    from .. import gradcheck_cases, kernels
    from ..gradcheck import numerical_gradient, relative_error
    from ..models.two_layer import toy_problem

    print(f"Central differences (eps={args.eps:g} unless a case sets its own step or stencil) against backward(), "
          "float64; max relative error per input.")
    worst = 0.0
    width = max(map(len, gradcheck_cases.CASES)) + 1
    for path in ("kernels", "reference") if args.path == "both" else (args.path,):
        print(f"\n{'CPU kernels where registered' if path == 'kernels' else 'reference ops only'}:")
        with kernels.use_reference(path == "reference"):
            worst = max(worst, _check_ops(args.eps, width))

    print("\nTwoLayerNet(4, 10, 3) on the toy data, reg 0.05, closed-form gradients:")
    net, X, y = toy_problem()
    _, grads = net.loss(X, y, reg=0.05)
    for key in ("W1", "b1", "W2", "b2"):
        numeric = numerical_gradient(lambda: net.loss(X, y, reg=0.05)[0], net.params[key], eps=1e-5)
        error = relative_error(grads[key], numeric)
        worst = max(worst, error / 1e-8)
        print(f"{key} max relative error: {error:.2e}")
    return 0 if worst < 1 else 1
