"""The ``newstrace`` command line. Each command calls the Python API of the same name and only adds output."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from newstrace import __version__
from newstrace.ingest.clean import RulesError
from newstrace.ingest.fields import MappingError
from newstrace.ingest.pipeline import IngestReport, ingest
from newstrace.ingest.sources import DEFAULT_MAX_BYTES
from newstrace.model import Problem
from newstrace.store import DEFAULT_DB, EXPORT_FORMATS, Store, StoreError

app = typer.Typer(
    name="newstrace",
    help="Trace claims through the news: who said what, who repeats whom, which narratives recur.",
    no_args_is_help=True,
    rich_markup_mode="markdown",
    context_settings={"help_option_names": ["-h", "--help"]},
    pretty_exceptions_enable=False,
)
err = Console(stderr=True, highlight=False)
out = Console(highlight=False)

DbOption = Annotated[Path, typer.Option("--db", help="The store (a DuckDB file).", show_default=True)]


def _fail(message: str, code: int = 2) -> typer.Exit:
    err.print(f"[bold red]newstrace: error:[/] {message}", soft_wrap=True)
    return typer.Exit(code)


def _version(value: bool) -> None:
    if value:
        out.print(f"newstrace {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """Trace claims through the news."""


class _IngestProgress:
    """Rich progress on stderr (files done, documents stored, docs/s) plus one line per problem."""

    def __init__(self, quiet: bool, verbose: bool) -> None:
        self.quiet = quiet
        self.verbose = verbose
        self.stored = 0
        self.progress = Progress(
            SpinnerColumn(),
            TextColumn("[bold]ingest[/]"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("files · {task.fields[docs]} docs · {task.fields[rate]} docs/s"),
            TimeElapsedColumn(),
            console=err,
            disable=quiet,
            transient=False,
        )
        self.task: Any = None
        self.started = 0.0

    def __enter__(self) -> _IngestProgress:
        import time

        self.started = time.perf_counter()
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    def __call__(self, kind: str, payload: Any) -> None:
        import time

        if kind == "start":
            self.task = self.progress.add_task("ingest", total=payload, docs=0, rate="0")
        elif kind in ("file", "file_skipped") and self.task is not None:
            self.progress.advance(self.task)
            if self.verbose:
                note = " (unchanged, skipped)" if kind == "file_skipped" else ""
                self.progress.console.print(f"[dim]{payload}{note}[/]")
        elif kind == "stored" and self.task is not None:
            self.stored += payload
            rate = self.stored / max(time.perf_counter() - self.started, 1e-9)
            self.progress.update(self.task, docs=self.stored, rate=f"{rate:,.0f}")
        elif kind == "problem":
            problem: Problem = payload
            if problem.severity == "error" or self.verbose:
                colour = "red" if problem.severity == "error" else "yellow"
                self.progress.console.print(
                    f"[{colour}]{problem.severity}[/]: {_problem_text(problem)}", soft_wrap=True
                )


def _problem_text(problem: Problem) -> str:
    where = problem.source_path + (f" ({problem.locator})" if problem.locator else "")
    return f"{where}: {problem.error}" + (f" [dim]({problem.detail})[/]" if problem.detail else "")


def _print_records(records: Iterable[dict[str, Any] | Problem], jsonl: bool) -> None:
    """Records of a file command on stdout (JSON lines, or pretty JSON), problems on stderr."""
    for record in records:
        if isinstance(record, Problem):
            err.print(f"[red]{record.severity}[/]: {_problem_text(record)}", soft_wrap=True)
        elif jsonl:
            print(json.dumps(record, ensure_ascii=False))
        else:
            out.print_json(json.dumps(record, ensure_ascii=False))


@app.command("ingest")
def ingest_command(
    paths: Annotated[
        list[Path],
        typer.Argument(help="Files and folders to read (folders recursively).", show_default=False),
    ],
    db: DbOption = Path(DEFAULT_DB),
    format: Annotated[
        str | None,
        typer.Option("--format", "-f", help="Read every file as txt, html, jsonl, json, csv or warc."),
    ] = None,
    map: Annotated[
        list[str] | None,
        typer.Option(
            "--map", "-m", help="Field mapping for CSV/JSON, e.g. `text=article_content,outlet=source`."
        ),
    ] = None,
    boilerplate: Annotated[
        Path | None, typer.Option(help="Extra boilerplate rules (YAML, same format as shipped).")
    ] = None,
    date_order: Annotated[
        str, typer.Option(help="Order of ambiguous numeric dates: MDY, DMY or YMD.")
    ] = "MDY",
    max_bytes: Annotated[
        int, typer.Option(help="Largest single article accepted, in bytes.")
    ] = DEFAULT_MAX_BYTES,
    delimiter: Annotated[
        str | None, typer.Option(help="CSV delimiter (default: sniffed from the header).")
    ] = None,
    jobs: Annotated[
        int | None,
        typer.Option(
            "--jobs",
            "-j",
            help="Worker processes (default: one per core for WARC or 500+ HTML pages, else 1).",
        ),
    ] = None,
    force: Annotated[
        bool, typer.Option(help="Re-read files even when unchanged since a completed run.")
    ] = False,
    strict: Annotated[bool, typer.Option(help="Exit with status 1 when any input failed.")] = False,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="Print only the summary line and errors.")
    ] = False,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Also print every file and warning.")
    ] = False,
) -> None:
    """Read articles into the store: cleaned, deduplicated, resumable.

    Formats are chosen by extension (`.txt .html .htm .jsonl .json .csv .tsv .warc`, each also `.gz`).
    A bad file never stops the run: it becomes a row in the `errors` table and one line on stderr.

    Examples:

        newstrace ingest articles/ --db corpus.duckdb

        newstrace ingest FA-KES-Dataset.csv --map text=article_content,title=article_title,outlet=source,date=date

        newstrace ingest crawl.warc.gz pages/*.html --db corpus.duckdb --jobs 4
    """
    if date_order.upper() not in ("MDY", "DMY", "YMD"):
        raise _fail(f"--date-order must be MDY, DMY or YMD, not '{date_order}'")
    try:
        with _IngestProgress(quiet, verbose) as progress:
            report = ingest(
                paths,
                db,
                format=format,
                mapping=",".join(map) if map else None,
                boilerplate=boilerplate,
                date_order=date_order.upper(),
                max_bytes=max_bytes,
                delimiter=delimiter,
                jobs=jobs,
                force=force,
                on_event=progress,
                command="newstrace " + " ".join(sys.argv[1:]),
            )
    except (MappingError, RulesError, StoreError) as exc:
        raise _fail(str(exc)) from exc
    except KeyboardInterrupt:
        err.print(
            "[yellow]interrupted[/]: every batch stored so far is kept; run the same command to complete"
        )
        raise typer.Exit(130) from None
    _print_report(report, db)
    if strict and report.failed:
        raise typer.Exit(1)


def _print_report(report: IngestReport, db: Path) -> None:
    line = f"{report.summary()} · {report.docs_per_second:,.0f} docs/s · {db}"
    if report.failed:
        line = line.replace("failed: see errors", f"failed: see errors (`newstrace errors --db {db}`)")
    err.print(line, soft_wrap=True)


@app.command("annotate")
def annotate_command(
    files: Annotated[
        list[Path] | None,
        typer.Argument(help="Files to annotate directly (no store). Omit to annotate the store."),
    ] = None,
    db: DbOption = Path(DEFAULT_DB),
    jsonl: Annotated[bool, typer.Option("--jsonl", help="With FILES: one JSON object per line.")] = False,
    aliases: Annotated[
        list[Path] | None, typer.Option("--aliases", help="Extra alias table (YAML); repeatable.")
    ] = None,
    places: Annotated[
        list[Path] | None, typer.Option("--places", help="Extra gazetteer places (YAML); repeatable.")
    ] = None,
    model: Annotated[
        str | None, typer.Option(help="Another installed spaCy pipeline (or NEWSTRACE_SPACY_MODEL).")
    ] = None,
    format: Annotated[str | None, typer.Option("--format", "-f", help="With FILES: force a reader.")] = None,
    attributions: Annotated[
        bool,
        typer.Option("--attributions/--no-attributions", help="Also find who said what (the slowest stage)."),
    ] = True,
    jobs: Annotated[
        int | None,
        typer.Option("--jobs", "-j", help="Worker processes (default: cores, for 300+ documents)."),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """Find sentences, entities (with canonical actors), places (with coordinates), dates and attributions.

    Without FILES, annotates every stored document not annotated yet, with a progress bar; an interrupted run
    resumes where it stopped. With FILES, prints the annotations with offsets into each file's text as read.

    Examples:

        newstrace annotate --db corpus.duckdb

        newstrace annotate article.txt --jsonl

        newstrace annotate --db corpus.duckdb --aliases my_actors.yml --places my_places.yml
    """
    from newstrace.nlp.aliases import AliasError
    from newstrace.nlp.gazetteer import GazetteerError
    from newstrace.nlp.pipeline import ModelError
    from newstrace.nlp.runner import annotate, annotate_files

    try:
        if files:
            _print_records(
                annotate_files(files, model=model, aliases=aliases or (), places=places or (), format=format),
                jsonl,
            )
            return
        progress = Progress(
            SpinnerColumn(),
            TextColumn("[bold]annotate[/]"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("docs"),
            TimeElapsedColumn(),
            console=err,
            disable=quiet,
        )
        task: list[Any] = []

        def on_event(kind: str, payload: Any) -> None:
            if kind == "start":
                task.append(progress.add_task("annotate", total=payload))
            elif kind == "stored" and task:
                progress.advance(task[0], payload)
            elif kind == "problem":
                progress.console.print(f"[red]error[/]: {_problem_text(payload)}", soft_wrap=True)

        with progress:
            report = annotate(
                db,
                model=model,
                aliases=aliases or (),
                places=places or (),
                attributions=attributions,
                jobs=jobs,
                on_event=on_event,
            )
        err.print(f"{report.summary()} · {db}")
    except (AliasError, GazetteerError, ModelError, StoreError) as exc:
        raise _fail(str(exc)) from exc
    except KeyboardInterrupt:
        err.print(
            "[yellow]interrupted[/]: annotations stored so far are kept; run the same command to continue"
        )
        raise typer.Exit(130) from None


@app.command("attributions")
def attributions_command(
    files: Annotated[
        list[Path], typer.Argument(help="Files to read: who said what in each.", show_default=False)
    ],
    jsonl: Annotated[bool, typer.Option("--jsonl", help="One JSON object per line.")] = False,
    aliases: Annotated[
        list[Path] | None, typer.Option("--aliases", help="Extra alias table (YAML); repeatable.")
    ] = None,
    format: Annotated[str | None, typer.Option("--format", "-f", help="Force a reader.")] = None,
) -> None:
    """Who said what: the source, cue and content of every attribution, with source type and modality.

    Prints one JSON object per input article, `{"file", "attributions": [{"source": [{"start", "end",
    "text"}], "cue": [...], "content": [...], "source_type", "modality", ...}]}`, offsets into the file's text
    exactly as read.

    Example:

        newstrace attributions article.txt --jsonl
    """
    from newstrace.attribution.tagger import TaggerError
    from newstrace.nlp.aliases import AliasError
    from newstrace.nlp.pipeline import ModelError
    from newstrace.nlp.runner import annotate_files

    try:
        for record in annotate_files(files, aliases=aliases or (), format=format):
            if isinstance(record, Problem):
                err.print(f"[red]{record.severity}[/]: {_problem_text(record)}", soft_wrap=True)
                continue
            keys = ("file", "locator", "attributions") if "locator" in record else ("file", "attributions")
            result = {key: record[key] for key in keys}
            if jsonl:
                print(json.dumps(result, ensure_ascii=False))
            else:
                out.print_json(json.dumps(result, ensure_ascii=False))
    except (AliasError, ModelError, TaggerError) as exc:
        raise _fail(str(exc)) from exc


def _reuse_config(min_words: int, max_df: int) -> Any:
    from newstrace.link.reuse import ReuseConfig

    if min_words < 5:
        raise _fail("--min-words must be at least 5 (the shingle length)")
    if max_df < 2:
        raise _fail("--max-df must be at least 2")
    return ReuseConfig(min_words=min_words, max_df=max_df)


MinWordsOption = Annotated[
    int, typer.Option("--min-words", help="Shortest reused passage, in words, on each side.")
]
MaxDfOption = Annotated[
    int,
    typer.Option(
        "--max-df", help="Text recurring in more documents than this is boilerplate and links nothing."
    ),
]


@app.command("link")
def link_command(
    db: DbOption = Path(DEFAULT_DB),
    min_words: MinWordsOption = 8,
    max_df: MaxDfOption = 100,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """Find reused passages between stored documents and fill the `reuse` table.

    Incremental: documents stored since the last `link` are compared with every document; pairs already
    found are kept, not recomputed. Each passage is marked `recycled` (same outlet) or `cross-outlet`, with
    the earlier document as `doc_a` when both are dated.

    Example:

        newstrace link --db corpus.duckdb && newstrace export --db corpus.duckdb --table reuse
    """
    from newstrace.link.reuse import link_reuse

    config = _reuse_config(min_words, max_df)
    progress = Progress(
        SpinnerColumn(),
        TextColumn("[bold]link[/] {task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        disable=quiet,
    )
    tasks: dict[str, Any] = {}

    def on_event(kind: str, payload: Any) -> None:
        if kind == "start":
            tasks["docs"] = progress.add_task("new documents", total=payload)
        elif kind == "pairs":
            if "pairs" in tasks:
                progress.remove_task(tasks["pairs"])
            tasks["pairs"] = progress.add_task("candidate pairs", total=payload)
        elif kind == "aligned" and "pairs" in tasks:
            progress.advance(tasks["pairs"], payload)
        elif kind == "indexed":
            progress.advance(tasks["docs"], payload)

    try:
        with progress:
            report = link_reuse(db, config, on_event=on_event)
    except StoreError as exc:
        raise _fail(str(exc)) from exc
    except KeyboardInterrupt:
        err.print("[yellow]interrupted[/]: passages stored so far are kept; run the same command to continue")
        raise typer.Exit(130) from None
    err.print(f"{report.summary()} · {db}")


@app.command("reuse")
def reuse_command(
    paths: Annotated[
        list[Path], typer.Argument(help="Files or folders to compare with each other.", show_default=False)
    ],
    jsonl: Annotated[bool, typer.Option("--jsonl", help="One JSON object per line.")] = False,
    format: Annotated[str | None, typer.Option("--format", "-f", help="Force a reader.")] = None,
    mapping: Annotated[
        str | None, typer.Option("--map", help="Field mapping for CSV/JSON, e.g. text=body,date=published.")
    ] = None,
    min_words: MinWordsOption = 8,
    max_df: MaxDfOption = 100,
) -> None:
    """Which file reuses which passage: one JSON object per passage pair, without a store.

    `{"a": FILE, "a_start", "a_end", "b": FILE, "b_start", "b_end", "score", "kind", "direction",
    "n_words"}`, offsets into each file's text exactly as read (`a_locator`/`b_locator` name the record in
    multi-record files). `score` is 1.0 for a verbatim copy.

    Example:

        newstrace reuse articles/ --jsonl
    """
    from newstrace.link.reuse import reuse_files

    config = _reuse_config(min_words, max_df)
    try:
        _print_records(reuse_files(paths, config, format=format, mapping=mapping), jsonl)
    except (MappingError, RulesError) as exc:
        raise _fail(str(exc)) from exc


@app.command("export")
def export_command(
    table: Annotated[str, typer.Option("--table", "-t", help="The table to export, e.g. documents, errors.")],
    db: DbOption = Path(DEFAULT_DB),
    format: Annotated[
        str, typer.Option("--format", "-f", help=f"One of {', '.join(EXPORT_FORMATS)}.")
    ] = "jsonl",
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Output file (default: stdout, not for parquet).")
    ] = None,
) -> None:
    """Export any table of the store as JSONL, CSV or Parquet.

    Examples:

        newstrace export --db corpus.duckdb --table documents | jq .title

        newstrace export --db corpus.duckdb --table documents --format parquet --out documents.parquet
    """
    try:
        with Store(db, read_only=True) as store:
            n_rows = store.export(table, format, out)
    except StoreError as exc:
        raise _fail(str(exc)) from exc
    if out is not None:
        err.print(f"{n_rows} rows of {table} written to {out}")


@app.command("info")
def info_command(
    db: DbOption = Path(DEFAULT_DB),
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Summarise what the store holds: documents, outlets, dates, duplicates, errors."""
    try:
        with Store(db, read_only=True) as store:
            summary = store.summary()
            tables = {name: store.one(f'SELECT count(*) FROM "{name}"')[0] for name in store.tables()}
    except StoreError as exc:
        raise _fail(str(exc)) from exc
    if as_json:
        out.print_json(json.dumps({**summary, "tables": tables}, default=str))
        return
    first, last = summary["first_published"], summary["last_published"]
    out.print(f"[bold]{summary['store']}[/]")
    out.print(
        f"{summary['documents']:,} documents · {summary['words']:,} words · "
        f"{first or '?'} to {last or '?'} ({summary['undated']} undated) · "
        f"{summary['duplicates']} duplicates · {summary['boilerplate_lines']} boilerplate lines removed · "
        f"{summary['errors']} errors, {summary['warnings']} warnings"
    )
    if summary["annotated"]:
        out.print(
            f"{summary['annotated']:,} annotated · {summary['actors_mentioned']} actors · "
            f"{summary['places']} places · {summary['attributions']:,} attributions"
        )
    if summary["linked"]:
        out.print(
            f"{summary['reuse_passages']:,} reused passages between {summary['reuse_pairs']:,} document pairs "
            f"({summary['linked']:,} documents linked)"
        )
    outlets = Table("outlet", "documents", title="Outlets", title_justify="left")
    for outlet, count in summary["outlets"].items():
        outlets.add_row(outlet, str(count))
    out.print(outlets)


@app.command("errors")
def errors_command(
    db: DbOption = Path(DEFAULT_DB),
    all_runs: Annotated[
        bool, typer.Option("--all", help="Show every run's problems, not only the last run's.")
    ] = False,
) -> None:
    """List the inputs that failed (and warnings), with the reason."""
    try:
        with Store(db, read_only=True) as store:
            run = None if all_runs else store.one("SELECT run_id FROM runs ORDER BY started DESC LIMIT 1")
            frame = store.errors(run[0] if run else None)
    except StoreError as exc:
        raise _fail(str(exc)) from exc
    if frame.empty:
        out.print("no errors")
        return
    table = Table("severity", "file", "where", "stage", "error", "detail")
    for row in frame.itertuples():
        table.add_row(
            row.severity, row.source_path, row.locator or "", row.stage, row.error, row.detail or ""
        )
    out.print(table)


def main() -> None:
    app()
