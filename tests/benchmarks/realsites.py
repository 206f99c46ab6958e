"""Real sites for measurement: Debian packages of documentation with hand-written related
links, obtained with `apt-get download` + `dpkg-deb -x` (no root needed) and served on
127.0.0.1. Nothing here is committed: the files land in tests/benchmarks/.cache/.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import shutil
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

CACHE = Path(__file__).resolve().parent / ".cache"


@dataclass(frozen=True)
class RealSite:
    name: str
    packages: tuple[str, ...]
    root: str  # the folder served, inside the extracted packages
    start_paths: tuple[str, ...]  # where a crawl starts, relative to the root


def _libreoffice(name: str, language: str, package: str) -> RealSite:
    # The contents tree is built by JavaScript: a crawl starts from the module pages.
    pages = ("swriter/main0000", "scalc/main0000", "simpress/main0000", "sdraw/main0000",
             "smath/main0000", "sbasic/shared/main0601", "shared/05/new_help")  # fmt: skip
    return RealSite(
        name,
        (package, "libreoffice-help-common"),
        "usr/share/libreoffice/help",
        tuple(f"{language}/text/{page}.html" for page in pages),
    )


SITES = {
    "libreoffice-fr": _libreoffice("libreoffice-fr", "fr", "libreoffice-help-fr"),
    "libreoffice-en": _libreoffice("libreoffice-en", "en-US", "libreoffice-help-en-us"),
    "postgresql": RealSite(
        "postgresql",
        ("postgresql-doc-15",),
        "usr/share/doc/postgresql-doc-15/html",
        ("index.html", "reference.html", "sql-commands.html"),
    ),
}


class SiteUnavailable(RuntimeError):
    """The packages could not be obtained (no apt-get, no package lists)."""


def obtain(site: RealSite) -> Path:
    """Download and extract the site's packages once; return the folder to serve."""
    extracted = CACHE / "sites" / site.name
    root = extracted / site.root
    if root.is_dir():
        return root
    debs = CACHE / "debs"
    debs.mkdir(parents=True, exist_ok=True)
    if shutil.which("apt-get") is None or shutil.which("dpkg-deb") is None:
        raise SiteUnavailable("apt-get and dpkg-deb are needed to obtain the real sites")
    for package in site.packages:
        if not any(debs.glob(f"{package}_*.deb")):
            result = subprocess.run(
                ["apt-get", "download", package], cwd=debs, capture_output=True, text=True
            )
            if result.returncode != 0:
                raise SiteUnavailable(
                    f"apt-get download {package} failed (run `apt-get update` first?): "
                    + result.stderr.strip()[-500:]
                )
    extracted.mkdir(parents=True, exist_ok=True)
    for package in site.packages:
        deb = sorted(debs.glob(f"{package}_*.deb"))[-1]
        subprocess.run(["dpkg-deb", "-x", str(deb), str(extracted)], check=True)
    return root


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


@contextlib.contextmanager
def serve(folder: Path, port: int = 0) -> Iterator[str]:
    """Serve a folder on 127.0.0.1 in a thread; yield its base URL (with a trailing slash)."""
    handler = functools.partial(_QuietHandler, directory=str(folder))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    finally:
        httpd.shutdown()
        httpd.server_close()
