"""Data-generating processes and simulation studies."""

from .binary import angle, make_single_index

__all__ = ["angle", "make_single_index"]
