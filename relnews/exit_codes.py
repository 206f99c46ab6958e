"""Exit codes of relnews commands, for cron and systemd: the one table."""

EXIT_OK = 0  # done
EXIT_FAILED = 1  # nothing could be done (nothing answered, archive not writable, ...)
EXIT_PARTIAL = 2  # stopped by a limit, some pages failed, or no model could be fitted
EXIT_LOCKED = 3  # another crawl or refresh holds the archive's lock
EXIT_INTERRUPTED = 4  # stopped by a signal (SIGTERM, Ctrl-C): the next crawl takes it up
#: The command line or the configuration file is wrong (an unknown option, a bad value):
#: nothing was run. EX_USAGE of sysexits.h, so that no run outcome shares it (click's
#: own code for this, 2, is a partial run's).
EXIT_USAGE = 64

#: The exit code of each crawl status (crawl_runs.status).
EXIT_OF_STATUS = {
    "finished": EXIT_OK,
    "partial": EXIT_PARTIAL,
    "interrupted": EXIT_INTERRUPTED,
    "failed": EXIT_FAILED,
}
