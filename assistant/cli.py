"""The `assistant` command line: one click group, one subcommand per job."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from .config import Settings


class UserError(click.ClickException):
    """A one-line error for bad input; never a traceback."""


@click.group()
@click.version_option(package_name="opgave-assistent")
def cli():
    """Opgave-assistent: vragen over asielopvang, taakstelling statushouders en opvang Oekraïners,
    beantwoord uit de bronnen, met bronvermelding.

    Grounded answers on Dutch asylum reception, housing quota and Ukrainian reception."""


# --- figures database -------------------------------------------------------------------------


@cli.group()
def db():
    """Build and query the figures database (SQLite)."""


@db.command("build")
def db_build():
    """Build db/figures.db from the CSV sources in db/ (atomic: validated before it replaces the old one)."""
    from .database import BuildError, build

    try:
        report = build()
    except BuildError as e:
        raise UserError(str(e)) from None
    counts = ", ".join(f"{name} {n}" for name, n in report.counts.items())
    click.echo(f"Built {report.path}: {counts}")


@db.command("query")
@click.argument("sql")
@click.option("-p", "--param", "params", multiple=True, metavar="NAME=VALUE", help="Bound parameter for :NAME.")
@click.option("--json", "as_json", is_flag=True, help="Print rows as JSON objects.")
def db_query(sql, params, as_json):
    """Run one read-only SELECT against the figures database.

    Example: assistant db query "SELECT gemeente, value FROM taakstelling_gemeente WHERE period = :p
    ORDER BY value DESC LIMIT 5" -p p=2024-II"""
    from .sqltool import SQLError, SQLTool

    bound = {}
    for item in params:
        name, sep, value = item.partition("=")
        if not sep:
            raise UserError(f"--param {item!r}: expected NAME=VALUE")
        bound[name] = value
    try:
        result = SQLTool.open().query(sql, bound)
    except SQLError as e:
        raise UserError(str(e)) from None
    if as_json:
        for row in result.dicts():
            click.echo(json.dumps(row, ensure_ascii=False))
    else:
        click.echo("\t".join(result.columns))
        for row in result.rows:
            click.echo("\t".join("" if v is None else str(v) for v in row))
    if result.truncated:
        click.echo(f"(truncated at {len(result.rows)} rows)", err=True)


@db.command("import-taakstelling")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--period", required=True, help="Half year of the annex, e.g. 2024-II.")
def db_import_taakstelling(file, period):
    """Import the official taakstelling per gemeente (CSV or XLSX) for one half year.

    The whole file is checked first; any problem rejects it and changes nothing. Official values then
    take precedence over the art. 29 computation, and both stay visible."""
    from .database import BuildError, import_taakstelling

    try:
        report = import_taakstelling(file, period)
    except BuildError as e:
        raise UserError(str(e)) from None
    for warning in report.warnings:
        click.echo(f"Warning: {warning}", err=True)
    click.echo(f"Imported {report.rows} gemeenten for {report.period} (total {report.total}) into {report.csv_path}")


# --- asking ----------------------------------------------------------------------------------


def ready_assistant():
    """The Assistant over a built database and index; builds what is missing, once, on first use."""
    from .config import Settings

    settings = Settings.from_env()
    if not settings.db_path.exists():
        from .database import BuildError, build

        click.echo(f"Building the figures database {settings.db_path} …", err=True)
        try:
            build(settings)
        except BuildError as e:
            raise UserError(str(e)) from None
    from .index import Index

    idx = Index.open(settings)
    if idx.manifest is None:
        click.echo("Building the document index (first run only) …", err=True)
        idx.build(progress=True)
    from .engine import Assistant

    return Assistant(settings)


def print_answer(answer, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(answer.to_json_dict(), ensure_ascii=False))
    else:
        click.echo(answer.answer)
        click.echo()


@cli.command()
@click.argument("questions", nargs=-1, required=True)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per question, one per line.")
def ask(questions, as_json):
    """Answer one or more questions; several questions are one conversation, in order.

    Example: assistant ask "Wat is de taakstelling van Rotterdam in 2024-II?" "En die van Maastricht?"
    """
    conversation = ready_assistant().conversation()
    for question in questions:
        print_answer(conversation.ask(question), as_json)


@cli.command()
def chat():
    """An interactive conversation in the terminal (empty line or Ctrl-D ends it)."""
    conversation = ready_assistant().conversation()
    click.echo("Stel uw vraag (lege regel om te stoppen). Ask your question (empty line to stop).")
    while True:
        try:
            question = click.prompt(">", prompt_suffix=" ", default="", show_default=False)
        except (EOFError, click.Abort):
            break
        if not question.strip():
            break
        print_answer(conversation.ask(question), as_json=False)


# --- knowledge index --------------------------------------------------------------------------


@cli.group()
def index():
    """Ingest documents and build the hybrid retrieval index."""


def _index_build(progress: bool, show_guessed: bool = True) -> None:
    """Build and summarise; every unusable file gets one line, the rest is indexed."""
    from .index import Index

    try:
        report = Index.open().build(progress=progress)
    except ValueError as e:  # a bad ASSISTANT_EMBEDDER
        raise UserError(str(e)) from None
    for error in report.errors:
        click.echo(f"error: {error}", err=True)
    for doc_id, fields in report.guessed.items() if show_guessed else ():
        click.echo(f"note: {doc_id} has no metadata for {', '.join(fields)}; guessed from its content or file name")
    if report.unchanged:
        click.echo(f"Index up to date: {report.documents} documents, {report.chunks} passages ({report.seconds} s).")
    elif report.build:
        click.echo(
            f"Indexed {report.documents} documents, {report.chunks} passages "
            f"({report.embedded} embedded, {report.cached} from cache) in {report.seconds} s."
        )
    else:
        click.echo("Nothing readable to index; the previous index (if any) is kept.")
    if report.errors:
        sys.exit(1)


@index.command("add")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--quiet", is_flag=True, help="No progress bar.")
def index_add(paths, quiet):
    """Copy Markdown, text or PDF files (or the files of a folder) into the documents folder and index them."""
    import os
    import shutil

    from .knowledge import DocumentError, load_document

    target_dir = Settings.from_env().documents_dir
    target_dir.mkdir(parents=True, exist_ok=True)
    failed = False
    files = [f for p in paths for f in (sorted(x for x in p.iterdir() if x.is_file()) if p.is_dir() else [p])]
    for path in files:
        try:
            doc = load_document(path)  # refuse bad files before they enter the corpus
        except DocumentError as e:
            click.echo(f"error: {e}", err=True)
            failed = True
            continue
        target = target_dir / path.name
        if target.resolve() != path.resolve():
            tmp = target_dir / f".{path.name}.tmp"
            shutil.copyfile(path, tmp)
            os.replace(tmp, target)
        click.echo(f"Added {path.name} as {doc.doc_id}: {doc.title!r} ({doc.doc_type}, {doc.date or 'no date'})")
        if doc.guessed:
            click.echo(f"  no metadata for {', '.join(doc.guessed)}: guessed from the content or file name")
    _index_build(progress=not quiet, show_guessed=False)
    if failed:
        sys.exit(1)


@index.command("build")
@click.option("--quiet", is_flag=True, help="No progress bar.")
def index_build(quiet):
    """Index all documents; only new or changed passages are embedded, the switch is atomic."""
    _index_build(progress=not quiet)


@index.command("search")
@click.argument("query")
@click.option("-k", "--top", "k", default=5, show_default=True, help="Number of passages.")
@click.option("--doc", "doc_ids", multiple=True, help="Only this document id (repeatable).")
@click.option("--json", "as_json", is_flag=True, help="Citations as JSON lines.")
def index_search(query, k, doc_ids, as_json):
    """Print the passages that best match QUERY, with their citations."""
    from .index import Index, IndexMissing

    try:
        citations = Index.open().search(query, k=k, doc_ids=list(doc_ids) or None)
    except (IndexMissing, ValueError) as e:
        raise UserError(str(e)) from None
    for i, c in enumerate(citations, start=1):
        if as_json:
            click.echo(json.dumps(c.model_dump(exclude_none=True), ensure_ascii=False))
            continue
        where = c.section + (f", p. {c.page}" if c.page else "")
        note = f" [{c.note}]" if c.note else ""
        click.echo(f"{i}. {c.title} ({c.date}) — {where}{note}\n   “{c.quote}”\n   {c.doc_id} · {c.score}")


# --- evaluation -------------------------------------------------------------------------------


@cli.command("eval")
@click.option("--set", "sets", multiple=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A golden-set YAML file; repeat for several. Default: tests/eval/dev.yaml and test.yaml.")
@click.option("--json", "as_json", is_flag=True, help="Print the reports as JSON instead of tables.")
def eval_cmd(sets, as_json):
    """Run the golden set through the assistant and score it per category.

    Prints every failing case (conversation, expected, actual) and a table per set.
    Exits with status 1 when any case fails."""
    from .evaluation import DEFAULT_SETS, default_ask_conversation, load_sets, run

    try:
        loaded = load_sets(sets or DEFAULT_SETS)
    except (OSError, ValueError) as exc:
        raise UserError(str(exc)) from None
    ask = default_ask_conversation()
    reports = [run(cases, ask, name=name) for name, cases in loaded.items()]
    if as_json:
        click.echo(json.dumps([r.to_json_dict() for r in reports], ensure_ascii=False, indent=2))
    else:
        for r in reports:
            if r.failures:
                click.echo(r.format_failures() + "\n")
        click.echo("\n\n".join(r.format_table() for r in reports))
    if any(r.failures for r in reports):
        sys.exit(1)


# --- server and audit log ---------------------------------------------------------------------


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; 0.0.0.0 for every interface (put a TLS proxy in front).")
@click.option("--port", default=7860, show_default=True, type=click.IntRange(1, 65535))
def serve(host, port):
    """Serve the chat (/chat/), the HTTP API (/api/ask, /api/health, /api/openapi.json) and the
    intranet example (/embed/) in one process.

    Environment: ASSISTANT_CORS_ORIGINS (comma-separated origins that may call the API and frame the
    chat), ASSISTANT_RATE_LIMIT (per client, default 30/minute; off to disable),
    ASSISTANT_MAX_BODY_BYTES (default 65536), ASSISTANT_AUDIT_DB (default db/audit.db)."""
    from .web import WebSettings
    from .web import serve as run_server

    try:
        WebSettings.from_env()  # fail on a bad setting before the slow start
    except ValueError as e:
        raise UserError(str(e)) from None
    run_server(host, port, assistant=ready_assistant())


@cli.group()
def audit():
    """The audit log: questions, answered or not, figures and citations used, latency (no personal data)."""


@audit.command("tail")
@click.option("-n", "--lines", "n", default=20, show_default=True, type=click.IntRange(min=1),
              help="Number of entries.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per entry.")
def audit_tail(n, as_json):
    """Show the latest entries of the audit log, oldest first."""
    from .audit import AuditLog, audit_path, format_entry

    path = audit_path()
    entries = AuditLog(path).tail(n)
    if not entries:
        click.echo(f"No audit entries in {path}.", err=True)
        return
    for entry in entries:
        if as_json:
            click.echo(json.dumps(entry.to_json_dict(), ensure_ascii=False))
        else:
            click.echo(format_entry(entry))

def main():  # pragma: no cover - console entry
    cli()
