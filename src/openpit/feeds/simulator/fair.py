"""Fair values: a mean-reverting random walk per listing group, plus per-venue drift.

Invariants:
- Instruments that share a symbol across venues (``LUXURY001/XRP`` on xrpl and flare)
  form one group and share one log-deviation ``x`` from their anchor prices.
- ``x`` is an Ornstein-Uhlenbeck process sampled exactly over any time step: its
  stationary standard deviation is ``volatility``, it halves its distance to 0 every
  ``half_life_s``, and it is clamped to ``±max_deviation`` (bounded for ever).
- Each instrument of a multi-listed group has a temporary offset (a fraction such as
  0.02) that decays with ``divergence_half_life_s``; new offsets of
  ``divergence_min..divergence_max`` appear as a Poisson process of
  ``divergence_per_hour`` per group. Single-listed instruments have no offset.
- Time enters only as the elapsed ``dt_ms``; randomness only from the ``random.Random``
  handed in. Same seed + same time steps -> same prices.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping, Sequence

from openpit.feeds.simulator.settings import SimSettings

_LN2 = math.log(2.0)


class FairValues:
    def __init__(
        self,
        groups: Sequence[Sequence[str]],
        anchors: Mapping[str, float],
        settings: SimSettings,
        rng: random.Random,
    ) -> None:
        self._groups = [tuple(g) for g in groups]
        self._group_of = {iid: n for n, g in enumerate(self._groups) for iid in g}
        self._anchor = dict(anchors)  # instrument id -> anchor price in ticks
        self._x = [0.0] * len(self._groups)
        self._offset = dict.fromkeys(self._anchor, 0.0)
        self._s = settings
        self._rng = rng

    def advance(self, dt_ms: int) -> None:
        """Move every fair value forward by ``dt_ms`` milliseconds of simulated time."""
        if dt_ms <= 0:
            return
        s, rng = self._s, self._rng
        dt = dt_ms / 1000.0
        decay = math.exp(-_LN2 * dt / s.half_life_s)
        noise = s.volatility * math.sqrt(max(0.0, 1.0 - decay * decay))
        bound = s.max_deviation
        for n in range(len(self._x)):
            x = self._x[n] * decay + noise * rng.gauss(0.0, 1.0)
            self._x[n] = min(bound, max(-bound, x))
        odecay = math.exp(-_LN2 * dt / s.divergence_half_life_s)
        for iid in self._offset:
            self._offset[iid] *= odecay
        p_event = 1.0 - math.exp(-s.divergence_per_hour * dt / 3600.0)
        for group in self._groups:
            if len(group) < 2 or rng.random() >= p_event:
                continue
            iid = group[rng.randrange(len(group))]
            size = rng.uniform(s.divergence_min, s.divergence_max)
            self._offset[iid] = size if rng.random() < 0.5 else -size

    def resume_from(self, instrument: str, price_ticks: int) -> None:
        """Start the walk of ``instrument``'s group where the market is (after a restart)."""
        x = math.log(price_ticks / self._anchor[instrument])
        bound = self._s.max_deviation
        self._x[self._group_of[instrument]] = min(bound, max(-bound, x))

    def ticks(self, instrument: str) -> float:
        """The current fair price of ``instrument`` in (fractional) ticks."""
        x = self._x[self._group_of[instrument]]
        return self._anchor[instrument] * math.exp(x + self._offset[instrument])

    def leader(self, instrument: str) -> str:
        """The first instrument of ``instrument``'s listing group."""
        return self._groups[self._group_of[instrument]][0]

    def deviation(self, instrument: str) -> float:
        """log(fair / anchor) of the instrument's group, without the venue offset."""
        return self._x[self._group_of[instrument]]

    def offset(self, instrument: str) -> float:
        return self._offset[instrument]
