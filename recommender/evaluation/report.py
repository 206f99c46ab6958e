"""An evaluation as documents: Markdown, and one self-contained HTML page with charts.

The HTML page opens offline: no external stylesheet, script, font or image; the charts
are drawn with matplotlib (Agg backend) and embedded as inline SVG, text drawn as
paths. Every name and text from the report is escaped.
"""

from __future__ import annotations

import html
import io
import re
from pathlib import Path

import numpy as np

from .evaluate import MODE_TITLES, EvaluationReport, format_interval

__all__ = ["chart_svg", "report_html", "report_markdown", "write_report"]

TITLE = "Related articles: methods against the editors' links"

_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2rem auto;
       max-width: 70rem; padding: 0 1rem; color: #222; line-height: 1.4; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.2rem; margin-top: 2rem; }
table { border-collapse: collapse; margin: 0.5rem 0 1rem; font-size: 0.9rem; }
th, td { border-bottom: 1px solid #ddd; padding: 0.25rem 0.6rem; }
th { background: #f3f3f3; } td { text-align: right; font-variant-numeric: tabular-nums; }
td:first-child, th:first-child { text-align: left; }
.ci { color: #777; font-size: 0.85em; }
.warning { background: #fff3cd; border: 1px solid #e0c060; padding: 0.6rem 0.8rem; }
.note { color: #555; font-size: 0.9rem; }
figure { margin: 0.5rem 0 1.5rem; } figure svg { max-width: 100%; height: auto; }
"""


def _chart_metrics(report: EvaluationReport, mode: str) -> list[str]:
    metrics = report.for_mode(mode).metrics
    chosen = [m for m in metrics if m.startswith("nDCG@")][:1]
    chosen += [m for m in metrics if m == "MRR"]
    recall = "R@5" if "R@5" in metrics else next((m for m in metrics if m.startswith("R@")), None)
    return chosen + ([recall] if recall else [])


def chart_svg(report: EvaluationReport, mode: str) -> str:
    """A bar chart of nDCG, MRR and R@5 per method, with the intervals as error bars.

    Parameters
    ----------
    report : EvaluationReport
        The evaluation.
    mode : str
        One of ``report.modes``.

    Returns
    -------
    str
        An ``<svg>`` element (no XML declaration), ready to inline in HTML.
    """
    # The object-oriented API renders with Agg/SVG canvases and never touches pyplot's
    # global state or the display.
    import matplotlib
    from matplotlib.figure import Figure

    part = report.for_mode(mode)
    metrics = _chart_metrics(report, mode)
    methods = part.methods
    width = 0.8 / max(len(methods), 1)
    figure = Figure(figsize=(max(6.0, 1.6 * len(metrics) + 0.5 * len(methods)), 3.4))
    axes = figure.add_subplot()
    positions = np.arange(len(metrics))
    for i, method in enumerate(methods):
        values: list[float] = []
        errors: list[list[float]] = [[], []]
        for metric in metrics:
            row = part.row(method, metric)
            values.append(row.value)
            low, high = row.ci_low, row.ci_high
            has_ci = low is not None and high is not None
            errors[0].append(max(row.value - low, 0.0) if low is not None and has_ci else 0.0)
            errors[1].append(max(high - row.value, 0.0) if high is not None and has_ci else 0.0)
        axes.bar(
            positions + (i - (len(methods) - 1) / 2) * width,
            values,
            width,
            yerr=np.array(errors),
            capsize=3,
            label=method,
        )
    axes.set_xticks(positions, metrics)
    # Room above 1 for the legend, so it never hides a bar.
    axes.set_ylim(0, 1.2 + 0.08 * ((len(methods) - 1) // 3))
    axes.set_yticks(np.linspace(0, 1, 6))
    axes.set_ylabel(f"score ({part.confidence:.0%} interval)" if part.n_bootstrap else "score")
    axes.set_title(MODE_TITLES.get(mode, mode).split(" (")[0], fontsize=10)
    axes.grid(axis="y", alpha=0.3)
    axes.legend(fontsize=8, loc="upper left", ncol=min(len(methods), 3), frameon=False)
    figure.tight_layout()
    buffer = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "path", "svg.hashsalt": "relnews"}):
        figure.savefig(buffer, format="svg", metadata={"Date": None})
    svg = buffer.getvalue()
    return svg[svg.index("<svg") :]


def report_markdown(report: EvaluationReport) -> str:
    """The evaluation as a Markdown document: split, one table per mode, warnings.

    Parameters
    ----------
    report : EvaluationReport
        The evaluation.

    Returns
    -------
    str
        Markdown text, ending with a newline.
    """
    lines = [f"# {TITLE}", ""]
    for warning in report.warnings:
        lines += [f"> **Warning:** {warning}", ""]
    lines += [report.to_markdown(warnings=False), ""]
    return "\n".join(lines)


def _cell(text: str) -> str:
    """A table cell's content: the value, then its interval in a lighter style."""
    match = re.fullmatch(r"(\S+) (\[.*\])", text)
    if not match:
        return html.escape(text)
    return f'{html.escape(match.group(1))} <span class="ci">{html.escape(match.group(2))}</span>'


def _html_table(report: EvaluationReport, mode: str) -> str:
    part = report.for_mode(mode)
    head = "".join(f"<th>{html.escape(m)}</th>" for m in ["metric", *part.methods])
    body = []
    for metric in part.metrics:
        cells = "".join(
            f"<td>{_cell(format_interval(part.row(method, metric)))}</td>"
            for method in part.methods
        )
        body.append(f"<tr><td>{html.escape(metric)}</td>{cells}</tr>")
    n_queries = {row.method: row.n_queries for row in part.rows}
    cells = "".join(f"<td>{n_queries[method]}</td>" for method in part.methods)
    body.append(f"<tr><td>queries</td>{cells}</tr>")
    return (
        f"<table><thead><tr>{head}</tr></thead><tbody>\n" + "\n".join(body) + "\n</tbody></table>"
    )


def report_html(report: EvaluationReport, *, charts: bool = True) -> str:
    """The evaluation as one self-contained HTML page: tables and charts per mode.

    Parameters
    ----------
    report : EvaluationReport
        The evaluation.
    charts : bool, default=True
        Draw a chart per mode (see :func:`chart_svg`).

    Returns
    -------
    str
        An HTML5 document that needs nothing outside itself.
    """
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{html.escape(TITLE)}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>{html.escape(TITLE)}</h1>",
    ]
    for warning in report.warnings:
        parts.append(f'<p class="warning"><strong>Warning:</strong> {html.escape(warning)}</p>')
    if report.split:
        parts.append(f"<p>Held-out pages: {html.escape(report.split)}.</p>")
    for mode in report.modes:
        parts.append(f"<h2>{html.escape(MODE_TITLES.get(mode, mode))}</h2>")
        parts.append(_html_table(report, mode))
        if charts:
            parts.append(f"<figure>{chart_svg(report, mode)}</figure>")
    parts += [f'<p class="note">{html.escape(note)}</p>' for note in report.notes]
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def write_report(
    report: EvaluationReport, folder: str | Path, *, stem: str = "evaluation"
) -> tuple[Path, Path]:
    """Write the Markdown and HTML reports into ``folder`` (created if needed).

    Parameters
    ----------
    report : EvaluationReport
        The evaluation.
    folder : str or Path
        Where to write.
    stem : str, default="evaluation"
        File name without extension.

    Returns
    -------
    md_path, html_path : Path
        The files written (``<stem>.md`` and ``<stem>.html``).
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    md_path, html_path = folder / f"{stem}.md", folder / f"{stem}.html"
    md_path.write_text(report_markdown(report), encoding="utf-8")
    html_path.write_text(report_html(report), encoding="utf-8")
    return md_path, html_path
