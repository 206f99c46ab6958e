"""Exporting the stored captures as a standard WARC file (ISO 28500), with warcio."""

from __future__ import annotations

import io
from pathlib import Path

import duckdb
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from warehouse.reader import Reader


def export_warc(con: duckdb.DuckDBPyConnection, path: str | Path, latest_only: bool = False) -> int:
    """Write one ``response`` record per fetch that got a page; return how many.

    With ``latest_only``, only each URL's newest capture is written.
    """
    reader = Reader(con)
    rows = reader.page_fetches(latest_only)
    count = 0
    with open(path, "wb") as output:
        writer = WARCWriter(output, gzip=str(path).endswith(".gz"))
        for url, fetched_at, status, content_type, etag, last_modified, content_hash in rows:
            body = reader.capture(content_hash)
            if body is None:
                continue
            headers = [("Content-Type", content_type or "text/html"),
                       ("Content-Length", str(len(body)))]  # fmt: skip
            if etag:
                headers.append(("ETag", etag))
            if last_modified:
                headers.append(("Last-Modified", last_modified))
            http_headers = StatusAndHeaders(f"{status} OK", headers, protocol="HTTP/1.1")
            record = writer.create_warc_record(
                url,
                "response",
                payload=io.BytesIO(body),
                http_headers=http_headers,
                warc_headers_dict={"WARC-Date": fetched_at.strftime("%Y-%m-%dT%H:%M:%SZ")},
            )
            writer.write_record(record)
            count += 1
    return count
