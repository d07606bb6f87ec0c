"""Normalization layers over groups and instances: ``nn.GroupNorm``, ``nn.InstanceNorm2d``."""

__all__ = []
