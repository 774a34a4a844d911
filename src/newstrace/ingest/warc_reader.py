"""Web archives (WARC, optionally gzipped): each HTML response record is one page to extract."""

from __future__ import annotations

from collections.abc import Iterator

from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed

from newstrace.ingest.sources import InputError, InputFile, ReadOptions, decode
from newstrace.model import Problem, RawArticle

HTML_TYPES = ("text/html", "application/xhtml+xml")


def read_warc(item: InputFile, options: ReadOptions) -> Iterator[RawArticle | Problem]:
    try:
        handle = item.path.open("rb")
    except PermissionError as exc:
        raise InputError("permission denied: cannot open the file for reading", str(exc)) from exc
    n_records = 0
    with handle:
        try:
            for record in ArchiveIterator(handle):
                n_records += 1
                if record.rec_type != "response" or record.http_headers is None:
                    continue
                content_type = (record.http_headers.get_header("Content-Type") or "").lower()
                status = record.http_headers.get_statuscode()
                if not content_type.startswith(HTML_TYPES) or status != "200":
                    continue
                record_id = record.rec_headers.get_header("WARC-Record-ID") or f"n{n_records}"
                locator = f"record:{record_id.strip('<>')}"
                payload = record.content_stream().read(options.max_bytes + 1)
                if len(payload) > options.max_bytes:
                    yield Problem(
                        item.name,
                        "read",
                        f"page is over the {options.max_bytes / 1e6:.0f} MB limit",
                        locator=locator,
                    )
                    continue
                if getattr(record.raw_stream, "limit", 0) > 0:
                    # The record promised more bytes (Content-Length) than the file holds.
                    raise InputError(f"truncated or corrupt WARC: record {n_records} ends early", locator)
                decoded = decode(payload)
                article = RawArticle(item.name, locator, "warc", html=decoded.text, encoding=decoded.encoding)
                article.url = record.rec_headers.get_header("WARC-Target-URI")
                article.metadata["crawled"] = record.rec_headers.get_header("WARC-Date")
                yield article
        except (ArchiveLoadFailed, EOFError, OSError, ValueError) as exc:
            raise InputError(f"truncated or corrupt WARC after {n_records} records", str(exc)[:200]) from exc
    if n_records == 0:
        raise InputError("no WARC records found")
