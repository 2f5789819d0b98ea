"""Parametric link families: cdf/pdf consistency, monotonicity, registry, bad input."""

import numpy as np
import pytest
from scipy import stats

from semiparam.links import LINKS, get_link
from semiparam.links.families import ShiftedLogisticLink

U = np.linspace(-6, 6, 241)


@pytest.mark.parametrize("name", sorted(LINKS))
def test_pdf_is_derivative_of_cdf(name):
    link = get_link(name)
    eps = 1e-5
    fd = (link.cdf(U + eps) - link.cdf(U - eps)) / (2 * eps)
    np.testing.assert_allclose(link.pdf(U), fd, atol=1e-8)
    np.testing.assert_array_equal(link(U), link.cdf(U))
    np.testing.assert_array_equal(link.derivative(U), link.pdf(U))


@pytest.mark.parametrize("name", sorted(LINKS))
def test_cdf_is_a_distribution_function(name):
    link = get_link(name)
    F = link.cdf(U)
    assert np.all(np.diff(F) >= 0)
    assert np.all((F >= 0) & (F <= 1))
    assert link.cdf(np.array([-1e6]))[0] < 1e-3 and link.cdf(np.array([1e6]))[0] > 1 - 1e-3


def test_families_match_scipy_distributions():
    np.testing.assert_allclose(get_link("logistic").cdf(U), stats.logistic.cdf(U), rtol=1e-12)
    np.testing.assert_allclose(get_link("probit").cdf(U), stats.norm.cdf(U), rtol=1e-12)
    np.testing.assert_allclose(get_link("cauchit").cdf(U), stats.cauchy.cdf(U), rtol=1e-12)
    # cloglog: 1 - exp(-exp(u)) is the Gumbel (minimum) distribution function
    np.testing.assert_allclose(get_link("cloglog").cdf(U), stats.gumbel_l.cdf(U), rtol=1e-10)


def test_shifted_logistic_is_the_mixture():
    link = get_link("shifted_logistic", s=1.5, tau=0.25)
    expected = 0.5 * stats.logistic.cdf((U - 1.5) / 0.25) + 0.5 * stats.logistic.cdf((U + 1.5) / 0.25)
    np.testing.assert_allclose(link.cdf(U), expected, rtol=1e-12)
    # flat shoulder at 1/2 around the origin
    assert abs(link.cdf(np.array([0.0]))[0] - 0.5) < 1e-12
    assert link.pdf(np.array([0.0]))[0] < 0.01
    # s = 0 is a logistic of scale tau
    np.testing.assert_allclose(
        ShiftedLogisticLink(s=0.0, tau=0.25).cdf(U), stats.logistic.cdf(U / 0.25), rtol=1e-12
    )


def test_skew_logistic_is_asymmetric():
    link = get_link("skew_logistic", alpha=0.25)
    assert abs(link.cdf(np.array([1.0]))[0] + link.cdf(np.array([-1.0]))[0] - 1) > 0.05


def test_registry_errors():
    with pytest.raises(ValueError, match="Unknown link 'logitt'"):
        get_link("logitt")
    with pytest.raises(ValueError, match="tau must be"):
        get_link("shifted_logistic", tau=0.0)
    with pytest.raises(ValueError, match="alpha must be"):
        get_link("skew_logistic", alpha=-1)
    link = get_link("probit")
    assert get_link(link) is link
    with pytest.raises(ValueError, match="Parameters can only be given"):
        get_link(link, s=1)


def test_fit_records_range_and_plot():
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    link = get_link("cloglog").fit(np.array([-2.0, 3.0]))
    assert link.index_range_ == (-2.0, 3.0)
    ax = link.plot()
    assert len(ax.lines) == 1
