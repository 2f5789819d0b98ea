"""semiparam: semiparametric single-index binary choice models and link-agnostic
preference learning.

Subpackages: :mod:`semiparam.index` (single-index estimators), :mod:`semiparam.links`
(1-D link estimators and parametric families), :mod:`semiparam.policy` (preference
tables, softmax policies, DPO/PSPO/OSPO/RSPO), :mod:`semiparam.simulate`
(data-generating processes and studies).  Subpackages are imported on first use so that
``import semiparam`` stays fast.
"""

import importlib

__version__ = "0.1.0"
__all__ = ["index", "links", "policy", "simulate", "__version__"]


def __getattr__(name):
    if name in ("index", "links", "policy", "simulate"):
        return importlib.import_module(f"semiparam.{name}")
    raise AttributeError(f"module 'semiparam' has no attribute {name!r}")
