"""``newstrace spark …``: the Spark engine's commands, mirroring ``ingest``, ``annotate``, ``link`` and ``run``.

They write a Parquet store (``--out DIR``, one folder per table, any path Spark can write: a local folder,
``hdfs://…``, ``s3a://…``); ``spark load`` turns one into a DuckDB store for the query commands. Nothing
here imports PySpark until a command runs, so the CLI starts as fast without the ``spark`` extra.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

err = Console(stderr=True, highlight=False)

Master = Annotated[
    str | None,
    typer.Option(
        "--master", help="Spark master (default: local[2], or the one spark-submit chose), e.g. local[8]."
    ),
]
DriverMemory = Annotated[str, typer.Option("--driver-memory", help="Driver memory (it holds the claims).")]
ExecutorMemory = Annotated[str | None, typer.Option("--executor-memory", help="Memory per executor.")]
Partitions = Annotated[
    int | None,
    typer.Option("--partitions", help="Tasks per per-document step (default: from the corpus size)."),
]
Conf = Annotated[list[str] | None, typer.Option("--conf", help="Any Spark setting, KEY=VALUE; repeatable.")]
Out = Annotated[
    str, typer.Option("--out", "-o", help="The Parquet store: a folder or an hdfs://, s3a:// URI.")
]
Aliases = Annotated[list[Path] | None, typer.Option("--aliases", help="Extra alias table (YAML).")]
Places = Annotated[list[Path] | None, typer.Option("--places", help="Extra places (YAML).")]
Attributions = Annotated[bool, typer.Option("--attributions/--no-attributions", help="Find who said what.")]
Embedder = Annotated[str | None, typer.Option("--embedder", help="Claim embedder: minilm or static.")]
Quiet = Annotated[bool, typer.Option("--quiet", "-q")]
Clustering = Annotated[
    str,
    typer.Option(
        "--clustering",
        help="Where claims are placed into narratives: blocked (groups of connected claims, on the "
        "executors) or driver (all claims on the driver). Both give the local engine's narratives.",
    ),
]


def _fail(message: str) -> typer.Exit:
    err.print(f"[bold red]newstrace: error:[/] {message}", soft_wrap=True)
    return typer.Exit(2)


def start_session(
    master: str | None = None,
    driver_memory: str = "4g",
    executor_memory: str | None = None,
    conf: list[str] | None = None,
) -> Any:
    """A Spark session from the command-line settings; a clear error when PySpark is missing."""
    if importlib.util.find_spec("pyspark") is None:
        raise _fail("the Spark engine needs PySpark: pip install 'newstrace[spark]' (and Java 17 or later)")
    from newstrace.engines.spark import start_spark

    settings = {}
    for item in conf or ():
        key, sep, value = item.partition("=")
        if not sep:
            raise _fail(f"--conf '{item}' is not KEY=VALUE")
        settings[key.strip()] = value.strip()
    return start_spark(master, driver_memory=driver_memory, executor_memory=executor_memory, config=settings)


def progress_printer(quiet: bool) -> Callable[[str, Any], None]:
    """Print the Spark engine's progress events to stderr, unless ``quiet``."""

    def on_event(kind: str, payload: Any) -> None:
        if quiet or kind == "done":
            return
        err.print(f"[dim]spark[/] {kind}" + (f": {payload}" if payload is not None else ""))

    return on_event


def _clustering(value: str) -> str:
    if value not in ("blocked", "driver"):
        raise _fail(f"--clustering must be blocked or driver, not {value!r}")
    return value


def guarded(action: Callable[[], Any]) -> Any:
    """Run a command body, turning the errors a user can fix (a bad mapping, alias file, model, store or
    embedder) into one line and exit status 2. The ``--engine spark`` options of the main commands use it too."""
    from newstrace.embed import EmbedderError
    from newstrace.ingest.clean import RulesError
    from newstrace.ingest.fields import MappingError
    from newstrace.store import StoreError

    known: tuple[type[Exception], ...] = (MappingError, RulesError, StoreError, EmbedderError)
    try:
        from newstrace.nlp.aliases import AliasError
        from newstrace.nlp.gazetteer import GazetteerError
        from newstrace.nlp.pipeline import ModelError

        known += (AliasError, GazetteerError, ModelError)
    except ImportError:  # pragma: no cover - the language pipeline is part of every install
        pass
    try:
        return action()
    except known as exc:
        raise _fail(str(exc)) from exc


def register(app: typer.Typer) -> None:
    """Add the ``spark`` command group to the ``newstrace`` CLI."""
    spark_app = typer.Typer(
        name="spark",
        help="Run the pipeline on Apache Spark (pip install 'newstrace[spark]'); the store is written as Parquet.",
        no_args_is_help=True,
    )

    @spark_app.command("ingest")
    def ingest_command(
        paths: Annotated[list[str], typer.Argument(help="Files, folders, URIs or Parquet datasets.")],
        out: Out,
        format: Annotated[
            str | None, typer.Option("--format", "-f", help="txt, html, jsonl, json, csv, warc or parquet.")
        ] = None,
        map: Annotated[
            list[str] | None,
            typer.Option("--map", "-m", help="Field mapping for CSV/JSON/Parquet (see ingest)."),
        ] = None,
        date_order: Annotated[
            str, typer.Option(help="Order of ambiguous numeric dates: MDY, DMY or YMD.")
        ] = "MDY",
        master: Master = None,
        driver_memory: DriverMemory = "4g",
        executor_memory: ExecutorMemory = None,
        partitions: Partitions = None,
        conf: Conf = None,
        quiet: Quiet = False,
    ) -> None:
        """Read articles into a new Parquet store, as `newstrace ingest` fills an empty store.

        Example:

            newstrace spark ingest s3a://bucket/crawl/ --out s3a://bucket/store --master yarn
        """
        from newstrace.engines.spark import spark_ingest

        spark = start_session(master, driver_memory, executor_memory, conf)
        report = guarded(
            lambda: spark_ingest(
                paths,
                out,
                spark=spark,
                format=format,
                mapping=",".join(map) if map else None,
                date_order=date_order.upper(),
                partitions=partitions,
                command="newstrace " + " ".join(sys.argv[1:]),
                on_event=progress_printer(quiet),
            )
        )
        err.print(report.summary(), soft_wrap=True)

    @spark_app.command("annotate")
    def annotate_command(
        out: Out,
        aliases: Aliases = None,
        places: Places = None,
        model: Annotated[str | None, typer.Option(help="Another installed spaCy pipeline.")] = None,
        attributions: Attributions = True,
        master: Master = None,
        driver_memory: DriverMemory = "4g",
        executor_memory: ExecutorMemory = None,
        partitions: Partitions = None,
        conf: Conf = None,
        quiet: Quiet = False,
    ) -> None:
        """Annotate every document of a Parquet store (spaCy loads once per Python worker)."""
        from newstrace.engines.spark import spark_annotate

        spark = start_session(master, driver_memory, executor_memory, conf)
        report = guarded(
            lambda: spark_annotate(
                out,
                spark=spark,
                model=model,
                aliases=aliases or (),
                places=places or (),
                attributions=attributions,
                partitions=partitions,
                on_event=progress_printer(quiet),
            )
        )
        err.print(report.summary(), soft_wrap=True)

    @spark_app.command("link")
    def link_command(
        out: Out,
        min_words: Annotated[int, typer.Option("--min-words", help="Shortest reused passage, in words.")] = 8,
        max_df: Annotated[int, typer.Option("--max-df", help="Text in more documents is boilerplate.")] = 100,
        min_shared: Annotated[int, typer.Option("--min-shared", help="Fingerprints a pair must share.")] = 2,
        embedder: Embedder = None,
        clustering: Clustering = "blocked",
        master: Master = None,
        driver_memory: DriverMemory = "4g",
        executor_memory: ExecutorMemory = None,
        partitions: Partitions = None,
        conf: Conf = None,
        quiet: Quiet = False,
    ) -> None:
        """Reuse, claims and narratives over a Parquet store."""
        from newstrace.engines.spark import DEFAULT_LINK_EMBEDDER, spark_link
        from newstrace.link.reuse import ReuseConfig

        spark = start_session(master, driver_memory, executor_memory, conf)
        report = guarded(
            lambda: spark_link(
                out,
                spark=spark,
                reuse=ReuseConfig(min_words=min_words, max_df=max_df, min_shared=min_shared),
                embedder=embedder or DEFAULT_LINK_EMBEDDER,
                partitions=partitions,
                clustering=_clustering(clustering),
                on_event=progress_printer(quiet),
            )
        )
        err.print(report.summary(), soft_wrap=True)

    @spark_app.command("run")
    def run_command(
        paths: Annotated[list[str], typer.Argument(help="Files, folders, URIs or Parquet datasets.")],
        out: Annotated[
            str,
            typer.Option(
                "--out", "-o", help="Folder for the Parquet store (parquet/), the store and the report."
            ),
        ],
        format: Annotated[
            str | None, typer.Option("--format", "-f", help="Read every file with this reader.")
        ] = None,
        map: Annotated[
            list[str] | None, typer.Option("--map", "-m", help="Field mapping (see ingest).")
        ] = None,
        aliases: Aliases = None,
        places: Places = None,
        attributions: Attributions = True,
        embedder: Embedder = None,
        duckdb: Annotated[
            bool,
            typer.Option("--duckdb/--no-duckdb", help="Also load newstrace.duckdb and write report.html."),
        ] = True,
        clustering: Clustering = "blocked",
        master: Master = None,
        driver_memory: DriverMemory = "4g",
        executor_memory: ExecutorMemory = None,
        conf: Conf = None,
        quiet: Quiet = False,
    ) -> None:
        """Everything on Spark: ingest, annotate and link PATH..., leaving `parquet/` (and, with --duckdb,
        `newstrace.duckdb` and `report.html`) in --out, as `newstrace run` does.

        Example:

            newstrace spark run articles/ --out traced/ --master local[4]
        """
        from newstrace.engines.spark import DEFAULT_LINK_EMBEDDER, spark_run

        if duckdb and "://" in out and not out.startswith("file:"):
            raise _fail("--duckdb needs a local --out folder; pass --no-duckdb for a cluster path")
        spark = start_session(master, driver_memory, executor_memory, conf)
        reports = guarded(
            lambda: spark_run(
                paths,
                out,
                spark=spark,
                format=format,
                mapping=",".join(map) if map else None,
                aliases=aliases or (),
                places=places or (),
                attributions=attributions,
                embedder=embedder or DEFAULT_LINK_EMBEDDER,
                duckdb=duckdb,
                clustering=_clustering(clustering),
                on_event=progress_printer(quiet),
            )
        )
        for report in reports:
            err.print(report.summary(), soft_wrap=True)

    @spark_app.command("load")
    def load_command(
        parquet: Annotated[Path, typer.Argument(help="A Parquet store folder written by the Spark engine.")],
        db: Annotated[Path, typer.Option("--db", help="The DuckDB store to create.")],
        replace: Annotated[bool, typer.Option("--replace", help="Overwrite an existing --db.")] = False,
    ) -> None:
        """Load a Parquet store into a DuckDB store file, so that every query command works on it.

        Example:

            newstrace spark load traced/parquet --db traced.duckdb && newstrace info --db traced.duckdb
        """
        from newstrace.engines.parquet_store import load_store

        target = guarded(lambda: load_store(parquet, db, replace=replace))
        err.print(f"loaded {parquet} into {target}")

    app.add_typer(spark_app)
