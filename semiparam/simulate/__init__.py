"""Data-generating processes and simulation studies."""

from .binary import angle, make_single_index
from .preferences import (
    PreferenceProblem,
    make_preference_data,
    run_preference_study,
    summarize_preference_study,
)

__all__ = [
    "angle",
    "make_single_index",
    "PreferenceProblem",
    "make_preference_data",
    "run_preference_study",
    "summarize_preference_study",
]
