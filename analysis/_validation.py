"""Argument checks shared by every public function of :mod:`analysis`.

Each check raises :class:`ValueError` with a message that names the argument, what is wrong
with it and what is allowed, in the manner of ``scipy.stats``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def _first(mask: np.ndarray, array: np.ndarray) -> float:
    """The first offending value, as a plain float for the error message."""
    return float(array[mask].flat[0])


def check_option(name: str, value: object, allowed: Sequence[object]) -> None:
    """Raise ValueError unless ``value`` is exactly one of ``allowed`` (no fuzzy matching)."""
    if not any(
        value is option or (type(value) is type(option) and value == option) for option in allowed
    ):
        choices = ", ".join(repr(option) for option in allowed)
        raise ValueError(f"{name} must be one of {choices}; got {value!r}")


def check_confidence(confidence: float) -> float:
    """Return ``confidence`` as a float, or raise ValueError unless it lies in (0, 1)."""
    try:
        value = float(confidence)
    except (TypeError, ValueError):
        raise ValueError(
            f"confidence must be a number strictly between 0 and 1; got {confidence!r}"
        ) from None
    if not 0.0 < value < 1.0:
        raise ValueError(f"confidence must be strictly between 0 and 1; got {confidence!r}")
    return value


def _as_float_array(name: str, values: object) -> np.ndarray:
    try:
        array = np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be numeric; got {values!r}") from None
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} must be finite numbers (no nan or inf)")
    return array


def check_probability(name: str, values: object) -> np.ndarray:
    """Return ``values`` as a float array, or raise ValueError unless all lie in (0, 1)."""
    array = _as_float_array(name, values)
    if np.any((array <= 0.0) | (array >= 1.0)):
        bad = _first((array <= 0.0) | (array >= 1.0), array)
        raise ValueError(f"{name} must be strictly between 0 and 1; got {bad}")
    return array


def check_counts(
    successes: object,
    trials: object,
    *others: object,
    names: tuple[str, str] = ("successes", "trials"),
) -> tuple:
    """Validate and broadcast binomial counts.

    Parameters
    ----------
    successes, trials : array_like
        Whole, non-negative numbers with ``successes <= trials``.
    *others : array_like
        Further arrays (targets, weights) broadcast together with the counts; they are
        returned as float arrays but not validated here.
    names : tuple of str, optional
        Names of the two count arguments in error messages.

    Returns
    -------
    successes, trials, *others : ndarray
        Float arrays of the broadcast shape.
    scalar : bool
        True when every input was a scalar, so that callers return Python floats.
    """
    x = _as_float_array(names[0], successes)
    n = _as_float_array(names[1], trials)
    for name, array in zip(names, (x, n), strict=True):
        if np.any(array < 0):
            raise ValueError(f"{name} must be non-negative counts; got {_first(array < 0, array)}")
        fractional = np.floor(array) != array
        if np.any(fractional):
            raise ValueError(
                f"{name} must be whole numbers (counts of responses); "
                f"got {_first(fractional, array)}"
            )
    rest = [np.asarray(other, dtype=float) for other in others]
    try:
        arrays = np.broadcast_arrays(x, n, *rest)
    except ValueError:
        shapes = ", ".join(str(np.shape(a)) for a in (x, n, *rest))
        raise ValueError(f"arguments must have broadcastable shapes; got {shapes}") from None
    x, n = arrays[0], arrays[1]
    if np.any(x > n):
        raise ValueError(f"{names[0]} must not exceed {names[1]} (satisfied <= valid responses)")
    scalar = all(np.ndim(a) == 0 for a in (successes, trials, *others))
    return (
        x.astype(float, copy=True),
        n.astype(float, copy=True),
        *(a.astype(float, copy=True) for a in arrays[2:]),
        scalar,
    )


def check_weights(weights: object) -> np.ndarray:
    """Return ``weights`` as a float array, or raise ValueError unless all are >= 0."""
    array = _as_float_array("weights", weights)
    if np.any(array < 0):
        raise ValueError(f"weights must be non-negative; got {_first(array < 0, array)}")
    return array


def output(values: np.ndarray, scalar: bool) -> float | int | str | np.ndarray:
    """Return a Python scalar for scalar input, else the array (scipy.stats convention)."""
    return np.asarray(values).item() if scalar else values
