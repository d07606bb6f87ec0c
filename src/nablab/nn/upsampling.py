"""Upsampling layers: ``nn.Upsample`` (nearest, bilinear) over ``F.interpolate``."""

__all__ = []
