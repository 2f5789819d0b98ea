"""Warning classes of semiparam.

Numerical trouble never passes silently: it raises one of these warnings and the
estimator keeps a usable, honest result (``converged_ = False``, a note in the
summary).  All derive from :class:`SemiparamWarning`, so one filter silences them.
They are issued through :func:`warn`, which attributes each to the caller's line.
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


class InferenceWarning(SemiparamWarning):
    """The reported standard errors cannot be trusted (too few rows for the asymptotics)."""


class BudgetWarning(SemiparamWarning):
    """A divergence budget cannot be met (beyond every tilt's reach, or a flat direction)."""


def warn(message: str, category: type = SemiparamWarning) -> None:
    """Issue ``message`` as ``category``, attributed to the line that called into semiparam.

    The stack level is counted, not hard-coded: every frame inside the ``semiparam``
    package (an estimator's ``fit``, the base class, a policy learner fitting an index
    estimator, ...) is skipped, so ``warning.filename``/``lineno`` are the user's call
    (or scikit-learn's, when it drives the fit), however deep the warning was raised.
    (Python 3.12's ``skip_file_prefixes`` does the same; 3.11 is supported.)
    """
    import os
    import sys
    import warnings

    home = os.path.dirname(os.path.abspath(__file__)) + os.sep
    depth = 1  # frame depth above this function: 1 is its caller
    frame = sys._getframe(1)
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(home):
        frame = frame.f_back
        depth += 1
    warnings.warn(message, category, stacklevel=depth + 1)
