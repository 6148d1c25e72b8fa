"""Proportions and their 95 % intervals: plain (Wilson) and weighted back over strata.

A leaf module (imports nothing of the package): the report's figures, the accuracy of the
machine against QA reviews and the threshold calibration all count this way. The formulas,
with why they were chosen, are in ``docs/accuracy.md``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

Z95 = 1.96  # standard normal quantile of a two-sided 95 % interval


def wilson(k: float, n: float, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval of the proportion k/n (default z: 95 %), as fractions in [0, 1].
    Unlike the normal approximation it stays inside [0, 1] and is sensible for k = 0 or k = n
    and small n, which per-size-class figures often are. ``k`` and ``n`` may be fractional
    (an effective sample size, :func:`stratified`)."""
    if n <= 0 or not 0 <= k <= n:
        raise ValueError(f"need 0 <= k <= n and n > 0, got k={k}, n={n}")
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    # it holds p; at k = 0 or k = n rounding put an end a hair past it (0 of 11 gave a lower
    # end of 1e-17, a negative error bar that matplotlib refuses)
    return max(0.0, min(p, centre - half)), min(1.0, max(p, centre + half))


@dataclass(frozen=True)
class Stratum:
    """One stratum of a population: ``size`` units in it, ``n`` of them looked at (a simple
    random sample of the stratum), ``k`` of those with the property counted."""

    size: float
    n: int
    k: int


@dataclass(frozen=True)
class Weighted:
    """A proportion weighted back to a stratified population, with its 95 % interval."""

    rate: float  # the weighted proportion, 0..1
    ci95: tuple[float, float]  # Wilson interval at the effective sample size
    n: int  # units looked at, over all strata counted
    k: int  # of those, with the property (unweighted)
    n_effective: float  # the sample size a simple random sample of equal precision would need
    covered: float  # fraction of the population in strata that were looked at (0..1)


def stratified(strata: Sequence[Stratum], z: float = Z95) -> Weighted | None:
    """The population proportion from per-stratum samples: each stratum's rate ``k/n`` weighed
    by its share of the population (``W_h = size_h / sum(size)``, over strata with ``n > 0``;
    a unit sampled in stratum h stands for ``size_h / n_h`` units), so a stratum looked at
    more closely than another does not pull the figure its way.

    Interval: Wilson's, at the effective sample size ``n_eff = p(1-p) / V`` (Korn & Graubard
    1998; Dean & Pagano 2015), ``V`` the larger of the stratified variance
    ``sum W_h^2 p_h (1-p_h) / n_h`` and the variance of a common rate under these weights
    ``p(1-p) sum W_h^2 / n_h`` (Kish): the first alone is 0 when every stratum's sample is
    all 0 or all 1, the second alone misses differences between strata. Without the finite
    population correction: the interval is for the rate of the process (the machine's error
    rate on calls like these), not only of this batch, and is conservative for the batch.
    With one stratum this is exactly :func:`wilson` of k of n. None when nothing was looked at.
    """
    seen = [s for s in strata if s.n > 0 and s.size > 0]
    if not seen:
        return None
    total = sum(s.size for s in strata if s.size > 0)
    weight = sum(s.size for s in seen)
    w = [s.size / weight for s in seen]
    p = sum(wh * s.k / s.n for wh, s in zip(w, seen, strict=True))
    p = min(1.0, max(0.0, p))
    kish = sum(wh * wh / s.n for wh, s in zip(w, seen, strict=True))  # = 1 / Kish's n_eff
    design = sum(wh * wh * (s.k / s.n) * (1 - s.k / s.n) / s.n
                 for wh, s in zip(w, seen, strict=True))
    variance = max(design, p * (1 - p) * kish)
    n_eff = p * (1 - p) / variance if variance > 0 else 1.0 / kish
    return Weighted(rate=p, ci95=wilson(p * n_eff, n_eff, z),
                    n=sum(s.n for s in seen), k=sum(s.k for s in seen), n_effective=n_eff,
                    covered=weight / total if total else 0.0)
