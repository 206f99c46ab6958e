"""Exit codes of `relnews crawl` and `relnews refresh`, for cron and systemd."""

EXIT_OK = 0  # done
EXIT_FAILED = 1  # nothing could be done (nothing answered, archive not writable, ...)
EXIT_PARTIAL = 2  # stopped by a limit, some pages failed, or no model could be fitted
EXIT_LOCKED = 3  # another crawl or refresh holds the archive's lock
EXIT_INTERRUPTED = 4  # stopped by a signal (SIGTERM, Ctrl-C): the next crawl takes it up

#: The exit code of each crawl status (crawl_runs.status).
EXIT_OF_STATUS = {
    "finished": EXIT_OK,
    "partial": EXIT_PARTIAL,
    "interrupted": EXIT_INTERRUPTED,
    "failed": EXIT_FAILED,
}
