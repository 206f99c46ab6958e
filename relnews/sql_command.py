"""`relnews sql`: where its SQL comes from (the command line, a file, standard input),
and its statements' rows printed as each statement ends."""

from __future__ import annotations

from pathlib import Path

import click
import duckdb

from relnews.inputs import STDIN, stdin_text, utf8_text
from relnews.output import format_results, terminal_safe
from warehouse import connect
from warehouse.sql_script import EmptyScript, Rendering, run_script


def read_script(query: str | None, file: Path | None) -> str:
    """The SQL of ``relnews sql``: QUERY itself, or the text of ``--file`` or of standard
    input (QUERY or FILE ``-``), which must be UTF-8 (a byte-order mark is dropped)."""
    if query is not None and file is not None:
        raise click.UsageError("give QUERY or --file, not both")
    if query is None and file is None:
        raise click.UsageError("give a QUERY, --file FILE, or - to read standard input")
    if file is None and query != STDIN:
        return str(query)
    if query == STDIN or str(file) == STDIN:
        return stdin_text("QUERY")
    assert file is not None
    return utf8_text(file.read_bytes(), str(file), "--file")


def echo_script(script: str, db: Path, fmt: str, wait: float, timeout: float, unsafe: bool) -> None:
    """Run ``script`` on the archive ``db`` (sandboxed unless ``unsafe``) and print the
    rows of each statement that answers rows, as soon as it has run; an error ends the
    script in one line (the rows printed before it stand)."""
    con = connect(db, read_only=True, wait=wait, sandboxed=not unsafe)
    rendering: Rendering = "json" if fmt == "json" else "text"
    try:
        for text in format_results(run_script(con, script, rendering, timeout or None), fmt):
            click.echo(text)
    except EmptyScript as error:
        raise click.UsageError(str(error)) from error
    except duckdb.InterruptException as error:
        raise click.ClickException(
            f"the query ran past --timeout {timeout:g} s and was stopped"
        ) from error
    except duckdb.Error as error:
        message = " ".join(str(error).split())
        if "disabled by configuration" in message or "disabled through configuration" in message:
            message += " (relnews sql reads the archive only; --unsafe lifts this)"
        raise click.ClickException(terminal_safe(message)) from error
    finally:
        con.close()
