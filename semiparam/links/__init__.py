"""One-dimensional link estimators and parametric link families.

Estimated links share one small interface: ``fit(v, z, sample_weight=None)``,
``__call__(v)``, ``derivative(v)``, ``plot(ax=None)``.

========================  =========================================================
``KernelLink``            Nadaraya–Watson estimate of E[z | v] (kernel, bandwidth)
``IsotonicLink``          isotonic regression (PAVA, scikit-learn's), increasing
``SieveLink``             monotone spline sieve fitted by maximum likelihood
``LINKS``/``get_link``    parametric families (logistic, probit, cloglog, ...)
``kernel_sums``           (leave-one-out) kernel sums on a scalar index, and
``kernel_sums_at``        at query points; ``KERNELS`` the kernel registry
``BaseLink``              the base class of the estimated links (the interface above)
``one_se_choice``         one-standard-error choice among candidate smoothings
========================  =========================================================
"""

from .._lazy import lazy_exports

_HOMES = {"BaseLink": "_base", "KernelLink": "kernel", "IsotonicLink": "isotonic",
          "SieveLink": "sieve", "KERNELS": "kernel", "kernel_sums": "kernel",
          "kernel_sums_at": "kernel", "one_se_choice": "_base", "LINKS": "families",
          "get_link": "families"}

__all__ = sorted(_HOMES)

__getattr__, __dir__ = lazy_exports(__name__, _HOMES)
