"""Tools for testing code against nablab: :mod:`nablab.testing.strict_device`, a stand-in GPU on the CPU."""
