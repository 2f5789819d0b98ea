"""Warning classes of semiparam.

Numerical trouble never passes silently: it raises one of these warnings and the
estimator keeps a usable, honest result (``converged_ = False``, a note in the
summary).  All derive from :class:`SemiparamWarning`, so one filter silences them.
"""


class SemiparamWarning(UserWarning):
    """Base class of every warning semiparam raises."""


class ConvergenceWarning(SemiparamWarning):
    """The optimiser stopped before its convergence criterion was met."""


class FlatLikelihoodWarning(SemiparamWarning):
    """The objective is (nearly) flat: the direction is poorly identified."""


class SeparationWarning(SemiparamWarning):
    """The classes are (quasi-)perfectly separated by a linear index."""


class BandwidthWarning(SemiparamWarning):
    """The bandwidth collapsed toward zero or hit a bound of its search range."""


class DataWarning(SemiparamWarning):
    """The data were altered in a documented way (rows dropped, values clipped)."""


class BudgetWarning(SemiparamWarning):
    """A divergence budget cannot be met (beyond every tilt's reach, or a flat direction)."""
