"""Pictures of what a network does: its computation graph (Graphviz), per-layer gradient norms and
activations over training, attention maps, and a live plot of the curves in Jupyter.

Importing this package imports neither graphviz nor matplotlib nor IPython: each function imports
what it draws with when it is called.
"""

from .graph import graph, save_graph

__all__ = ["graph", "save_graph"]
