"""Data-generating processes and simulation studies.

=============================  =======================================================
``make_single_index``          binary-choice data with a known link
``make_preference_data``       preference tables from a known teacher, reward and link
``Study``                      design x replications x methods, on any back-end, resumable
``EstimatorMethod``            an index estimator as a study method
``summarize``                  performance measures with Monte Carlo SEs (tidy)
``report``                     a summary as a Markdown / HTML / CSV table
``load_results``               the results of a stored study (no Study object needed)
``binary_choice_study``        built-in: misspecified links in binary choice
``policy_study``               built-in: DPO against PSPO / OSPO / RSPO across link shifts
``nested_loop_plot`` ...       plots (matplotlib): nested loop, coverage, zip, frontier
=============================  =======================================================

Everything is imported on first use, so that ``import semiparam.simulate`` (and the
start of a study's worker process) stays cheap.
"""

from .._lazy import lazy_exports

_LAZY = {
    "angle": "binary",
    "make_single_index": "binary",
    "PreferenceProblem": "preferences",
    "make_preference_data": "preferences",
    "run_preference_study": "preferences",
    "summarize_preference_study": "preferences",
    "Study": "study",
    "EstimatorMethod": "study",
    "load_results": "study",
    "load_events": "study",
    "store_status": "study",
    "summarize": "mcse",
    "performance": "mcse",
    "report": "mcse",
    "binary_choice_study": "builtin",
    "policy_study": "builtin",
    "BUILTIN_STUDIES": "builtin",
    "nested_loop_plot": "plots",
    "coverage_plot": "plots",
    "zip_plot": "plots",
    "frontier_plot": "plots",
}

__all__ = list(_LAZY)

__getattr__, __dir__ = lazy_exports(__name__, _LAZY)
