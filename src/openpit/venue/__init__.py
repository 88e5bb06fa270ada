"""The venue: the sequencer (single writer), its service (journal, publication) and views."""

from openpit.venue.sequencer import CommandResult, Venue

__all__ = ["CommandResult", "Venue"]
