"""Text a user hands a command (a draft, a SQL script): read as UTF-8, or refused in one
line that says where the first byte that is not UTF-8 sits."""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import Any

import click

from relnews.output import terminal_safe

#: The name of standard input, for a file argument.
STDIN = "-"


def utf8_text(data: bytes, where: str, hint: str | None = None) -> str:
    """``data`` decoded as UTF-8 (a byte-order mark dropped), else a usage error."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise click.BadParameter(
            f"{terminal_safe(where)} is not UTF-8 text (byte 0x{data[error.start]:02x} at "
            f"offset {error.start}): save it as UTF-8",
            param_hint=hint,
        ) from error


def stdin_text(hint: str | None = None) -> str:
    """Standard input's text, read whole as :func:`utf8_text`."""
    return utf8_text(sys.stdin.buffer.read(), "standard input", hint)


class TextFile(click.ParamType):
    """A UTF-8 text file's content, or standard input's for ``-``."""

    name = "file"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        if not isinstance(value, str):
            return str(value)
        hint = param.get_error_hint(ctx) if param is not None and ctx is not None else None
        if value == STDIN:
            return stdin_text(hint)
        try:
            data = Path(value).read_bytes()
        except OSError as error:
            self.fail(f"cannot read {terminal_safe(value)}: {error.strerror}", param, ctx)
        return utf8_text(data, value, hint)


class FiniteFloat(click.FloatRange):
    """A number in a range that is a number: click's FloatRange lets ``nan`` through (no
    comparison fails with it), and ``inf`` where the range has no upper end."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number", param, ctx)
        return number
