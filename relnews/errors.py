"""Errors of the front door's own jobs (the packages' errors live in the packages)."""


class JobError(Exception):
    """A job that cannot start, said in one line (e.g. the demo's port is taken)."""
