"""Pictures of what a network does: its computation graph (Graphviz), per-layer gradient norms and
activations over training (from :class:`nablab.lab.monitor.LayerMonitor`), attention maps, and a
live plot of the curves in Jupyter.

Importing this package imports neither graphviz nor matplotlib nor IPython: each function imports
what it draws with when it is called. Figures are drawn without pyplot, so they never change the
plotting backend of the session that draws them.
"""

from .attention import attention_map
from .graph import graph, save_graph
from .layers import plot_activation_histograms, plot_activation_stats, plot_gradient_norms
from .live import LivePlot, in_notebook

__all__ = ["LivePlot", "attention_map", "graph", "in_notebook", "plot_activation_histograms", "plot_activation_stats",
           "plot_gradient_norms", "save_graph"]
