"""Shared vocabulary of the venue: enums, instruments, commands, events, errors.

Everything here is pure data. Money is integer ticks (price) and lots (quantity)
per instrument, and integer units per asset; never float.
"""
