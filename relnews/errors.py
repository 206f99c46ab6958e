"""Errors of the front door's own jobs (the packages' errors live in the packages)."""

from warehouse import WarehouseError


class JobError(Exception):
    """A job that cannot start, said in one line (e.g. the demo's port is taken)."""


class NotInArchive(WarehouseError):
    """What a command names (an article, a pin, a block) is not in the archive."""
