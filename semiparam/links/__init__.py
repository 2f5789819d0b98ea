"""One-dimensional link estimators and parametric link families."""

from .families import LINKS, get_link

__all__ = ["LINKS", "get_link"]
