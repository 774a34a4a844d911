"""The ``newstrace`` command line. Each command calls the Python API of the same name and only adds output."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

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
from newstrace.engines.spark_commands import register as register_spark
from newstrace.ingest.clean import RulesError
from newstrace.ingest.fields import MappingError
from newstrace.ingest.sources import DEFAULT_MAX_BYTES
from newstrace.model import Problem
from newstrace.present.commands import register as register_presenters
from newstrace.store import DEFAULT_DB, EXPORT_FORMATS, Store, StoreError

if TYPE_CHECKING:
    from newstrace.engines.local import Workers
    from newstrace.ingest.pipeline import IngestReport
    from newstrace.link.narrate import Embedder
    from newstrace.link.reuse import ReuseConfig

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
EngineOption = Annotated[
    str,
    typer.Option(
        "--engine",
        help="local (default), or spark: the same stage on PySpark in local mode, working on a Parquet copy "
        "of the store beside --db (see `newstrace spark` for cluster settings).",
    ),
]


def _fail(message: str, code: int = 2) -> typer.Exit:
    err.print(f"[bold red]newstrace: error:[/] {message}", soft_wrap=True)
    return typer.Exit(code)


def _check_engine(engine: str) -> bool:
    """True for the Spark engine; an unknown engine is a usage error."""
    if engine not in ("local", "spark"):
        raise _fail(f"--engine must be local or spark, not {engine!r}")
    return engine == "spark"


def _on_spark(
    db: Path, stage: Callable[[Any, str, Any], Any], *, fresh: bool = False, quiet: bool = False
) -> None:
    """Run one stage on the Spark engine for the DuckDB store ``db`` (see ``spark_on_store``)."""
    from newstrace.engines.spark_commands import guarded, progress_printer, start_session

    spark = start_session()  # first: it names the missing extra before anything imports PySpark
    from newstrace.engines.spark import parquet_beside, spark_on_store

    on_event = progress_printer(quiet)
    report = guarded(lambda: spark_on_store(db, lambda root: stage(spark, root, on_event), fresh=fresh))
    err.print(f"{report.summary()} · {db} (Parquet: {parquet_beside(db)})", soft_wrap=True)


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
    engine: EngineOption = "local",
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
    reading: dict[str, Any] = {
        "format": format,
        "mapping": ",".join(map) if map else None,
        "boilerplate": boilerplate,
        "date_order": date_order.upper(),
        "max_bytes": max_bytes,
        "delimiter": delimiter,
        "command": "newstrace " + " ".join(sys.argv[1:]),
    }
    if _check_engine(engine):
        from newstrace.engines.spark import spark_ingest

        _on_spark(
            db,
            lambda spark, root, on_event: spark_ingest(
                [str(p) for p in paths], root, spark=spark, on_event=on_event, **reading
            ),
            fresh=True,
            quiet=quiet,
        )
        return
    # Imported here: readers for every format (trafilatura, warcio) that other commands do not need.
    from newstrace.ingest.pipeline import ingest

    try:
        with _IngestProgress(quiet, verbose) as progress:
            report = ingest(
                paths,
                db,
                **reading,
                jobs=jobs,
                force=force,
                on_event=progress,
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
    labels: Annotated[
        list[Path] | None,
        typer.Option(
            "--labels", help="Extra label lexicon for framing (YAML, as data/labels.yml); repeatable."
        ),
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
    engine: EngineOption = "local",
) -> None:
    """Find sentences, entities (with canonical actors), places (with coordinates), dates and attributions.

    Without FILES, annotates every stored document not annotated yet, with a progress bar; an interrupted run
    resumes where it stopped. With FILES, prints the annotations with offsets into each file's text as read.

    Examples:

        newstrace annotate --db corpus.duckdb

        newstrace annotate article.txt --jsonl

        newstrace annotate --db corpus.duckdb --aliases my_actors.yml --places my_places.yml
    """
    from newstrace.nlp.runner import annotate_files

    if _check_engine(engine):
        if files:
            raise _fail("--engine spark annotates a store; FILES are annotated by the local engine")
        if labels:
            raise _fail("--labels is not supported by the Spark engine yet; use the local engine")
        from newstrace.engines.spark import spark_annotate

        _on_spark(
            db,
            lambda spark, root, on_event: spark_annotate(
                root,
                spark=spark,
                model=model,
                aliases=aliases or (),
                places=places or (),
                attributions=attributions,
                on_event=on_event,
            ),
            quiet=quiet,
        )
        return
    with _annotation_errors():
        if files:
            _print_records(
                annotate_files(
                    files,
                    model=model,
                    aliases=aliases or (),
                    places=places or (),
                    labels=labels or (),
                    format=format,
                ),
                jsonl,
            )
            return
        _annotate_store(db, model, aliases, places, labels, attributions, jobs, quiet)


@contextmanager
def _annotation_errors() -> Iterator[None]:
    """A bad alias or place file, a missing model or a bad store ends `annotate` with its message; an
    interrupt keeps what is stored."""
    from newstrace.nlp.aliases import AliasError
    from newstrace.nlp.gazetteer import GazetteerError
    from newstrace.nlp.pipeline import ModelError

    try:
        yield
    except (AliasError, GazetteerError, ModelError, StoreError) as exc:
        raise _fail(str(exc)) from exc
    except KeyboardInterrupt:
        err.print(
            "[yellow]interrupted[/]: annotations stored so far are kept; run the same command to continue"
        )
        raise typer.Exit(130) from None


def _annotate_store(
    db: Path,
    model: str | None,
    aliases: list[Path] | None,
    places: list[Path] | None,
    labels: list[Path] | None,
    attributions: bool,
    jobs: int | None,
    quiet: bool,
    workers: Workers | None = None,
    after_batch: Callable[[Store, list[str]], None] | None = None,
) -> None:
    """`annotate` over a store, with its progress bar (shared by `annotate` and `run`)."""
    from newstrace.nlp.runner import annotate

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
            labels=labels or (),
            attributions=attributions,
            jobs=jobs,
            on_event=on_event,
            workers=workers,
            after_batch=after_batch,
        )
    err.print(f"{report.summary()} · {db}")


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


def _reuse_config(min_words: int, max_df: int, min_shared: int) -> ReuseConfig:
    from newstrace.link.reuse import ReuseConfig

    if min_words < 5:
        raise _fail("--min-words must be at least 5 (the shingle length)")
    if max_df < 2:
        raise _fail("--max-df must be at least 2")
    if min_shared < 1:
        raise _fail("--min-shared must be at least 1")
    return ReuseConfig(min_words=min_words, max_df=max_df, min_shared=min_shared)


MinSharedOption = Annotated[
    int,
    typer.Option(
        "--min-shared",
        help="Fingerprints two documents must share to be aligned: 1 finds every passage of --min-words, "
        "2 (default) is about twice as fast and misses some passages shorter than 12 words.",
    ),
]


EmbedderOption = Annotated[
    str,
    typer.Option(
        "--embedder",
        help="Claim embedder: minilm (exact, default) or static (about 50x faster, coarser narratives).",
    ),
]
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
    min_shared: MinSharedOption = 2,
    embedder: EmbedderOption = "minilm",
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
    engine: EngineOption = "local",
) -> None:
    """Link documents: reused passages (`reuse`), claims (`claims`) and narratives (`narratives`).

    Incremental: documents stored or annotated since the last `link` are compared with every document and
    their claims join the existing narratives, whose ids stay stable. Each reused passage is marked
    `recycled` (same outlet) or `cross-outlet`, with the earlier document as `doc_a` when both are dated.

    Examples:

        newstrace link --db corpus.duckdb && newstrace narratives --db corpus.duckdb

        newstrace export --db corpus.duckdb --table reuse
    """
    config = _reuse_config(min_words, max_df, min_shared)
    if _check_engine(engine):
        from newstrace.engines.spark import spark_link

        _on_spark(
            db,
            lambda spark, root, on_event: spark_link(
                root, spark=spark, reuse=config, embedder=embedder, on_event=on_event
            ),
            quiet=quiet,
        )
        return
    _link_store(db, config, embedder, quiet)


def _link_store(db: Path, config: ReuseConfig, embedder: str | Embedder, quiet: bool) -> None:
    """`link` over a store, with its progress bars (shared by `link` and `run`)."""
    from newstrace.embed import EmbedderError
    from newstrace.link.pipeline import link

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
            tasks["docs"] = progress.add_task("reuse: new documents", total=payload)
        elif kind == "pairs":
            if "pairs" in tasks:
                progress.remove_task(tasks["pairs"])
            tasks["pairs"] = progress.add_task("reuse: candidate pairs", total=payload)
        elif kind == "aligned" and "pairs" in tasks:
            progress.advance(tasks["pairs"], payload)
        elif kind == "indexed":
            progress.advance(tasks["docs"], payload)
        elif kind == "claims":
            tasks["claims"] = progress.add_task("claims: documents", total=payload)
        elif kind == "claimed":
            progress.advance(tasks["claims"], payload)

    try:
        with progress:
            report = link(db, reuse=config, embedder=embedder, on_event=on_event)
    except (StoreError, EmbedderError) as exc:
        raise _fail(str(exc)) from exc
    except KeyboardInterrupt:
        err.print("[yellow]interrupted[/]: work stored so far is kept; run the same command to continue")
        raise typer.Exit(130) from None
    err.print(f"{report.summary()} · {db}", soft_wrap=True)


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
    min_shared: MinSharedOption = 2,
) -> None:
    """Which file reuses which passage: one JSON object per passage pair, without a store.

    `{"a": FILE, "a_start", "a_end", "b": FILE, "b_start", "b_end", "score", "kind", "direction",
    "n_words"}`, offsets into each file's text exactly as read (`a_locator`/`b_locator` name the record in
    multi-record files). `score` is 1.0 for a verbatim copy.

    Example:

        newstrace reuse articles/ --jsonl
    """
    from newstrace.link.reuse import reuse_files

    config = _reuse_config(min_words, max_df, min_shared)
    try:
        _print_records(reuse_files(paths, config, format=format, mapping=mapping), jsonl)
    except (MappingError, RulesError) as exc:
        raise _fail(str(exc)) from exc


@app.command("run")
def run_command(
    paths: Annotated[
        list[Path],
        typer.Argument(help="Files and folders to read (folders recursively).", show_default=False),
    ],
    out_dir: Annotated[Path, typer.Option("--out", "-o", help="Folder for the store and the report.")],
    format: Annotated[
        str | None, typer.Option("--format", "-f", help="Read every file with this reader.")
    ] = None,
    map: Annotated[
        list[str] | None, typer.Option("--map", "-m", help="Field mapping for CSV/JSON (see `ingest`).")
    ] = None,
    aliases: Annotated[
        list[Path] | None, typer.Option("--aliases", help="Extra alias table (YAML); repeatable.")
    ] = None,
    places: Annotated[
        list[Path] | None, typer.Option("--places", help="Extra places (YAML); repeatable.")
    ] = None,
    attributions: Annotated[
        bool,
        typer.Option("--attributions/--no-attributions", help="Find who said what (the slowest stage)."),
    ] = True,
    embedder: EmbedderOption = "minilm",
    jobs: Annotated[int | None, typer.Option("--jobs", "-j", help="Worker processes.")] = None,
    engine: Annotated[
        str,
        typer.Option(
            "--engine",
            help="local (default), or spark: the same stages on PySpark in local mode, with a Parquet store in "
            "--out/parquet (see `newstrace spark run` for cluster settings).",
        ),
    ] = "local",
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars.")] = False,
) -> None:
    """Everything in one go: ingest, annotate and link PATH..., leaving `newstrace.duckdb` and `report.html`
    in the --out folder. Re-running with more files adds them; work already done is kept.

    Example:

        newstrace run articles/ --out traced/ && xdg-open traced/report.html
    """
    if _check_engine(engine):
        _run_on_spark(paths, out_dir, format, map, aliases, places, attributions, embedder)
        return
    from newstrace.embed import load_embedder
    from newstrace.engines.local import default_jobs
    from newstrace.link.prefetch import ClaimPrefetch
    from newstrace.link.reuse import ReuseConfig
    from newstrace.nlp.workers import start_annotators

    out_dir.mkdir(parents=True, exist_ok=True)
    db = out_dir / DEFAULT_DB
    # The annotation workers load spaCy and the tagger while the files are read.
    annotators = jobs or default_jobs()
    workers = (
        start_annotators(annotators, aliases=aliases or (), places=places or (), attributions=attributions)
        if annotators > 1
        else None
    )
    # The claims of each annotated batch are extracted as it is stored, and embedded on the core that the link
    # stage's first steps (reuse, claim extraction) leave idle (benchmarks/RESULTS.md, "Claims embedded
    # ahead"). The embedder loads meanwhile.
    with ClaimPrefetch(lambda: load_embedder(embedder)) as prefetch:
        try:
            ingest_command(paths, db=db, format=format, map=map, jobs=jobs, quiet=quiet)
            with _annotation_errors():
                _annotate_store(
                    db, None, aliases, places, None, attributions, jobs, quiet, workers, prefetch.add
                )
            prefetch.start()
        finally:
            if workers is not None:
                workers.close()
        _link_store(db, ReuseConfig(), prefetch, quiet)
    report_path = out_dir / "report.html"
    try:
        from newstrace.present.report import write_report
    except ImportError:  # a newstrace without the presenters
        err.print(f"store: {db}")
        return
    write_report(db, report_path)
    err.print(f"store: {db} · report: {report_path}")


def _run_on_spark(
    paths: list[Path],
    out_dir: Path,
    format: str | None,
    map: list[str] | None,
    aliases: list[Path] | None,
    places: list[Path] | None,
    attributions: bool,
    embedder: str,
) -> None:
    try:
        from newstrace.engines.spark import spark_run
    except ImportError as exc:  # PySpark is an extra
        raise _fail(f"the Spark engine needs PySpark: pip install 'newstrace[spark]' ({exc})") from exc
    reports = spark_run(
        [str(p) for p in paths],
        str(out_dir),
        format=format,
        mapping=",".join(map) if map else None,
        aliases=aliases or (),
        places=places or (),
        attributions=attributions,
        embedder=embedder,
    )
    for report in reports:
        err.print(report.summary(), soft_wrap=True)


# -- questions asked of a linked store --------------------------------------------------------------------

JsonOption = Annotated[bool, typer.Option("--json", help="JSON lines instead of a table.")]


def _frame_json(frame: Any) -> list[dict[str, Any]]:
    return json.loads(frame.to_json(orient="records", date_format="iso", force_ascii=False))


def _print_frame(frame: Any, columns: dict[str, int], as_json: bool, title: str) -> None:
    """A DataFrame as JSON lines, or as a table of the given columns (each cut to a width)."""
    if as_json:
        for record in _frame_json(frame):
            print(json.dumps(record, ensure_ascii=False))
        return
    table = Table(title=title, title_justify="left")
    for column, width in columns.items():
        table.add_column(column, no_wrap=True, overflow="ellipsis", max_width=width)
    for record in frame.to_dict(orient="records"):
        cells = []
        for column, width in columns.items():
            value = record.get(column)
            if isinstance(value, (list, tuple)) or hasattr(value, "tolist"):
                value = ", ".join(_listed(value))
            if value is None or value != value:  # None, NaN, NaT
                text = ""
            elif hasattr(value, "isoformat"):
                text = str(value)[:10]
            else:
                text = str(value)
            cells.append(text if len(text) <= width else text[: width - 1] + "…")
        table.add_row(*cells)
    # Piped output gets whole rows at their natural width, one line per record, cut cells marked with "…".
    needed = sum(columns.values()) + 3 * len(columns) + 1
    console = out if out.is_terminal else Console(highlight=False, width=max(out.width, needed))
    console.print(table)


def _sources(frame: Any) -> Any:
    """Who makes each claim, for display: the source, or the outlet's own voice."""
    return [
        text
        if isinstance(text, str) and text
        else ("(source not stated)" if attributed else "(outlet voice)")
        for text, attributed in zip(frame["source_text"], frame["attributed"], strict=True)
    ]


def _day(value: Any) -> str:
    return "?" if value is None or value != value else str(value)[:10]


def _listed(value: Any) -> list[str]:
    """A list column's value (a list, an array or nothing) as a list of strings."""
    return [] if value is None else [str(v) for v in list(value)]


def _query(db: Path, question: Any) -> Any:
    from newstrace import query

    try:
        with Store(db, read_only=True) as store:
            return question(query, store)
    except StoreError as exc:
        raise _fail(str(exc)) from exc


@app.command("narratives")
def narratives_command(
    db: DbOption = Path(DEFAULT_DB),
    all_: Annotated[bool, typer.Option("--all", help="Also clusters found in one document only.")] = False,
    limit: Annotated[int | None, typer.Option("--limit", "-n", help="Show at most this many.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Recurring narratives: claims repeated across documents, most documents first.

    Example:

        newstrace narratives --db corpus.duckdb -n 10
    """
    frame = _query(db, lambda q, store: q.narratives(store, recurring_only=not all_, limit=limit))
    _print_frame(
        frame,
        {
            "narrative_id": 12,
            "label": 70,
            "n_documents": 11,
            "n_outlets": 9,
            "first_seen": 10,
            "last_seen": 10,
            "n_dropped": 9,
            "n_predictions": 13,
        },
        as_json,
        f"Narratives ({len(frame)})",
    )


@app.command("narrative")
def narrative_command(
    narrative_id: Annotated[str, typer.Argument(help="A narrative id (see `newstrace narratives`).")],
    db: DbOption = Path(DEFAULT_DB),
    as_json: JsonOption = False,
) -> None:
    """One narrative's provenance chain: the first statement, then every repeat in time order, marked
    verbatim, paraphrase or new detail, with dropped attributions and earlier predictions.

    Example:

        newstrace narrative n3f2a9c01d4 --db corpus.duckdb
    """
    found = _query(db, lambda q, store: q.narrative(store, narrative_id))
    summary, chain = found["narrative"], found["chain"]
    if as_json:
        print(
            json.dumps({"narrative": summary, "chain": _frame_json(chain)}, default=str, ensure_ascii=False)
        )
        return
    out.print(f"[bold]{narrative_id}[/]: {summary['label']}")
    out.print(
        f"{summary['n_documents']} documents · {summary['n_outlets']} outlets · {_day(summary['first_seen'])} to "
        f"{_day(summary['last_seen'])} · actors: {', '.join(_listed(summary['actors']))} · places: "
        f"{', '.join(_listed(summary['places']))}"
    )
    chain = chain.assign(
        source=_sources(chain),
        flags=[
            " ".join(f for f, on in (("DROPPED", d), (f"pred#{p + 1}", m == "prediction")) if on)
            for d, p, m in zip(
                chain["attribution_dropped"], chain["earlier_predictions"], chain["modality"], strict=True
            )
        ],
    )
    _print_frame(
        chain,
        {
            "chain_position": 14,
            "published": 10,
            "outlet": 18,
            "chain_role": 10,
            "source": 28,
            "modality": 10,
            "flags": 14,
            "text": 80,
        },
        False,
        "Provenance chain",
    )


@app.command("claims")
def claims_command(
    about: Annotated[str, typer.Option("--about", help="An actor id or name, e.g. hts or 'White Helmets'.")],
    db: DbOption = Path(DEFAULT_DB),
    as_json: JsonOption = False,
) -> None:
    """Claims about an actor (mentioning it, or made by it), in time order, with their sources.

    Example:

        newstrace claims --about "Hay'at Tahrir al-Sham" --db corpus.duckdb
    """
    frame = _query(db, lambda q, store: q.claims_about(store, about))
    frame = frame.assign(source=_sources(frame))
    _print_frame(
        frame,
        {"published": 10, "outlet": 18, "source": 30, "modality": 10, "narrative_id": 12, "text": 90},
        as_json,
        f"Claims about {about} ({len(frame)})",
    )


@app.command("who-said")
def who_said_command(
    text: Annotated[str, typer.Argument(help="What was said, in a few words or a sentence.")],
    db: DbOption = Path(DEFAULT_DB),
    top: Annotated[int, typer.Option("--top", help="At most this many claims.")] = 20,
    as_json: JsonOption = False,
) -> None:
    """Who said it: claims that say TEXT (by meaning or wording), earliest first, with source and outlet.

    Example:

        newstrace who-said "militants are preparing a staged chemical attack" --db corpus.duckdb
    """
    frame = _query(db, lambda q, store: q.who_said(store, text, top=top))
    if "text" in frame:
        frame = frame.assign(source=_sources(frame))
    _print_frame(
        frame,
        {"match": 5, "published": 10, "outlet": 18, "source": 32, "source_type": 11, "text": 80},
        as_json,
        f"Who said it ({len(frame)})",
    )


@app.command("framing")
def framing_command(
    actor: Annotated[str, typer.Argument(help="An actor id or name.")],
    db: DbOption = Path(DEFAULT_DB),
    as_json: JsonOption = False,
) -> None:
    """How each outlet labels an actor ("terrorists", "rebels", "so-called civil defense group"), with counts
    and an example span.

    Example:

        newstrace framing hts --db corpus.duckdb
    """
    frame = _query(db, lambda q, store: q.framing(store, actor))
    _print_frame(
        frame, {"outlet": 24, "label": 34, "n": 4, "example": 60}, as_json, f"Labels for {actor} by outlet"
    )


@app.command("predictions")
def predictions_command(
    db: DbOption = Path(DEFAULT_DB),
    narrative_id: Annotated[str | None, typer.Option("--narrative", help="Only this narrative.")] = None,
    as_json: JsonOption = False,
) -> None:
    """The prediction ledger: predictions and plans ("are preparing to stage", "will carry out") in recurring
    narratives, each with how many predictions of the same thing came before it.

    Example:

        newstrace predictions --db corpus.duckdb
    """
    frame = _query(db, lambda q, store: q.predictions(store, narrative_id))
    _print_frame(
        frame,
        {
            "narrative_id": 12,
            "published": 10,
            "outlet": 18,
            "source": 28,
            "earlier_predictions": 19,
            "text": 80,
        },
        as_json,
        f"Predictions ({len(frame)})",
    )


@app.command("match")
def match_command(
    catalog: Annotated[
        Path,
        typer.Option(
            "--catalog",
            "-c",
            help="Known claims: CSV/TSV, JSONL, JSON or ClaimReview JSON-LD.",
            show_default=False,
        ),
    ],
    queries: Annotated[
        Path | None,
        typer.Option(
            "--queries",
            "-q",
            help="Claims to look up: same formats, or .txt (one per line).",
            show_default=False,
        ),
    ] = None,
    db: Annotated[
        Path | None,
        typer.Option(
            "--db",
            help="Instead of --queries: match the store's recurring narratives, and keep the matches in its "
            "`narrative_matches` table.",
            show_default=False,
        ),
    ] = None,
    top: Annotated[int, typer.Option("--top", "-k", help="Entries returned per query.")] = 5,
    trec: Annotated[
        bool,
        typer.Option("--trec", help="Print TREC run lines `qid Q0 docid rank score run` instead of JSON."),
    ] = False,
    run_name: Annotated[
        str, typer.Option("--run-name", help="The run column of --trec output.")
    ] = "newstrace",
    embedder: Annotated[
        str,
        typer.Option(
            "--embedder", "-e", help="Sentence embedder: minilm (better matches) or static (much faster)."
        ),
    ] = "minilm",
    min_score: Annotated[
        float | None,
        typer.Option("--min-score", help="Drop matches scoring below this (a probability when re-ranked)."),
    ] = None,
    rerank: Annotated[
        bool,
        typer.Option("--rerank/--fusion", help="Fitted re-ranker, or plain reciprocal-rank fusion."),
    ] = True,
    id_column: Annotated[
        str | None, typer.Option("--id-column", help="Catalogue id column (`@row` numbers the rows).")
    ] = None,
    text_column: Annotated[
        list[str] | None, typer.Option("--text-column", help="Catalogue text column; repeatable.")
    ] = None,
    query_id_column: Annotated[
        str | None, typer.Option("--query-id-column", help="Query id column (`@row` numbers the rows).")
    ] = None,
    query_text_column: Annotated[
        list[str] | None, typer.Option("--query-text-column", help="Query text column; repeatable.")
    ] = None,
) -> None:
    """Rank the entries of a catalogue of known or debunked claims for each query.

    BM25 and sentence embeddings on every text field of the catalogue, fused by a re-ranker fitted on
    CLEF-2020 CheckThat! task 2 train. Prints one JSON object per query, `{"query_id", "query", "matches":
    [{"entry_id", "rank", "score", "text", "meta", "duplicates"}]}`, or with `--trec` one line per match.
    Entries with the same text are ranked once, under the first id (the others listed as `duplicates`).
    Ids and text columns are found by name (`id`, `url`, an unnamed first column...; `claim`, `title`,
    `text`...) unless given. `--embedder static` embeds a large catalogue in seconds but matches less well.

    Examples:

        newstrace match --catalog verified_claims.docs.tsv --queries tweets.queries.tsv --top 5 --trec

        newstrace match --catalog full_dataset.csv --id-column @row --queries claims.txt --embedder minilm

        newstrace match --catalog full_dataset.csv --id-column @row --db corpus.duckdb --top 3
    """
    from newstrace.embed import EmbedderError
    from newstrace.match import Catalog, CatalogError, Matcher

    if top < 1:
        raise _fail("--top must be at least 1")
    if (queries is None) == (db is None):
        raise _fail("give either --queries FILE or --db FILE (to match the store's narratives)")
    if db is not None:
        _match_narratives(
            db, catalog, id_column, text_column, embedder, rerank, top, min_score, trec, run_name
        )
        return
    try:
        entries = Catalog.load(catalog, id_column=id_column, text_columns=text_column or None)
        asked = Catalog.load(queries, id_column=query_id_column, text_columns=query_text_column or None)
        matcher = Matcher(entries, embedder=embedder, rerank=rerank and len(entries.fields) > 1)
        results = matcher.search(asked, top=top, min_score=min_score)
    except (CatalogError, EmbedderError) as exc:
        raise _fail(str(exc)) from exc
    for index, matches in enumerate(results):
        if trec:
            for match in matches:
                print(f"{match.query_id}\tQ0\t{match.entry_id}\t{match.rank}\t{match.score:.6f}\t{run_name}")
            continue
        record = {
            "query_id": asked.ids[index],
            "query": asked.text(index),
            "matches": [
                {
                    "entry_id": m.entry_id,
                    "rank": m.rank,
                    "score": round(m.score, 6),
                    "text": m.text,
                    **({"meta": m.meta} if m.meta else {}),
                    **({"duplicates": list(m.duplicates)} if m.duplicates else {}),
                }
                for m in matches
            ],
        }
        print(json.dumps(record, ensure_ascii=False))


def _match_narratives(
    db: Path,
    catalog: Path,
    id_column: str | None,
    text_column: list[str] | None,
    embedder: str,
    rerank: bool,
    top: int,
    min_score: float | None,
    trec: bool,
    run_name: str,
) -> None:
    from newstrace.embed import EmbedderError
    from newstrace.match import Catalog, CatalogError, Matcher
    from newstrace.query import match_narratives

    try:
        entries = Catalog.load(catalog, id_column=id_column, text_columns=text_column or None)
        # The shipped re-ranker was fitted on two text fields (claim and title); one-field catalogues fuse ranks.
        matcher = Matcher(entries, embedder=embedder, rerank=rerank and len(entries.fields) > 1, tweets=False)
        with Store(db) as store:
            run_id = store.start_run(f"match narratives catalog={catalog}")
            found = match_narratives(store, matcher, top=top, min_score=min_score)
            store.write_narrative_matches(run_id, str(catalog), list(found.itertuples(index=False)))
            store.finish_run(run_id, "done", {"records": len(found), "stored": len(found)})
    except (CatalogError, EmbedderError, StoreError) as exc:
        raise _fail(str(exc)) from exc
    for row in found.itertuples(index=False):
        if trec:
            print(f"{row.narrative_id}\tQ0\t{row.entry_id}\t{row.rank}\t{row.score:.6f}\t{run_name}")
        else:
            print(json.dumps({**row._asdict(), "meta": json.loads(row.meta)}, ensure_ascii=False))


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


register_presenters(app)
register_spark(app)


def main() -> None:
    app()
