"""Feeds: market activity that enters the venue through the same command path as clients.

- ``openpit.feeds.simulator``: seeded market makers and takers (``start_simulator``).
- ``openpit.feeds.replay``: recorded trades and quotes from CSV (``ReplayPlan``,
  ``run_replay``).

See ``docs/feeds.md``.
"""
