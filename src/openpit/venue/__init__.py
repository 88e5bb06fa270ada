"""The sequencer: the venue's single writer."""

from openpit.venue.sequencer import CommandResult, Venue

__all__ = ["CommandResult", "Venue"]
