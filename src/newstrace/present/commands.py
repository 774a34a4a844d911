"""The ``report`` and ``serve`` commands, added to the ``newstrace`` command line by :func:`register`."""

from __future__ import annotations

import errno
import socket
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from newstrace.store import DEFAULT_DB, Store, StoreError

err = Console(stderr=True, highlight=False)
out = Console(highlight=False)

DbOption = Annotated[Path, typer.Option("--db", help="The store (a DuckDB file).", show_default=True)]


def _fail(message: str, code: int = 2) -> typer.Exit:
    err.print(f"[bold red]newstrace: error:[/] {message}", soft_wrap=True)
    return typer.Exit(code)


def _size(n_bytes: int) -> str:
    return f"{n_bytes / 1_000_000:.1f} MB" if n_bytes >= 1_000_000 else f"{n_bytes / 1000:.0f} kB"


def report_command(
    db: DbOption = Path(DEFAULT_DB),
    output: Annotated[
        Path, typer.Option("--output", "-o", help="The HTML file to write.", show_default=True)
    ] = Path("report.html"),
    title: Annotated[
        str | None, typer.Option("--title", help="The report's title (default: the store's file name).")
    ] = None,
) -> None:
    """Write the report: one HTML file with the narratives, their timelines and provenance chains, every
    document with its evidence marked, the actors' framing, a map and search. It works offline and can be
    mailed: scripts, styles, data and the world map are all inside, and it makes no request.

    Examples:

        newstrace report --db corpus.duckdb -o report.html

        newstrace report --db corpus.duckdb -o syria.html --title "FA-KES, 2011-2018"
    """
    from newstrace.present.report import AssetError, write_report

    try:
        info = write_report(db, output, title=title)
    except (StoreError, AssetError) as exc:
        raise _fail(str(exc)) from exc
    except OSError as exc:
        raise _fail(f"{exc.filename or output}: cannot write the report ({exc.strerror})") from exc
    err.print(
        f"{info.path}: {_size(info.size)} · {info.documents:,} documents · {info.narratives:,} narratives · "
        f"{info.seconds:.1f} s",
        soft_wrap=True,
    )


def serve_command(
    db: DbOption = Path(DEFAULT_DB),
    host: Annotated[
        str,
        typer.Option("--host", help="Address to listen on. Anything but loopback needs a token."),
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", "-p", help="Port to listen on.")] = 8765,
    token: Annotated[
        str | None,
        typer.Option(
            "--token",
            help="Token every request must present (`Authorization: Bearer TOKEN` or `?token=TOKEN`); "
            "generated and printed when the host is not loopback.",
        ),
    ] = None,
) -> None:
    """Serve the store as a local web app: the report's views, page by page, and a read-only JSON API
    (`/api/narratives`, `/api/narratives/ID`, `/api/documents/ID`, `/api/claims?about=ACTOR`,
    `/api/framing/ACTOR`, `/api/predictions`).

    Examples:

        newstrace serve --db corpus.duckdb

        newstrace serve --db corpus.duckdb --host 0.0.0.0 --port 8080
    """
    from newstrace.present.server import is_loopback, new_token, serve

    try:
        Store(db, read_only=True).close()
    except StoreError as exc:
        raise _fail(str(exc)) from exc
    if not is_loopback(host) and not token:
        token = new_token()
    try:
        with socket.create_server((host, port)):
            pass
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise _fail(f"port {port} on {host} is in use; choose another with --port") from exc
        raise _fail(f"cannot listen on {host}:{port} ({exc.strerror})") from exc
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{shown}:{port}/" + (f"?token={token}" if token else "")
    err.print(f"serving {db} (read-only) at {url}", soft_wrap=True)
    if token:
        err.print(
            "every request needs the token: open the address above, or send `Authorization: Bearer TOKEN`"
        )
    err.print("[dim]Ctrl+C to stop[/]")
    serve(db, host=host, port=port, token=token)


def register(app: typer.Typer) -> None:
    """Add ``report`` and ``serve`` to a Typer app (the ``newstrace`` command line)."""
    app.command("report")(report_command)
    app.command("serve")(serve_command)
