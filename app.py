"""OneMap composition root: settings, the web app factory and the ``onemap`` command line.

Nothing imports this module; it wires ``data``/``geo``/``layers``/``dashboard`` together.
``python app.py …`` and ``onemap …`` take the same subcommands.
"""
from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.console import Console

from config import Settings  # tests and benches build Settings(dsn=...) from here

console = Console(stderr=True)


def create_app(settings: Settings):
    """The WSGI application: the Dash dashboard and the API on one Flask server."""
    from api.app import install_api, start_bulletin_scheduler, start_escalator, start_rollup_folder
    from dashboard.app import build_dash
    from db.core import app_dsn
    from field.app import create_blueprint as field_app
    from web.auth import install_auth
    from web.logging import install_request_id

    dsn = app_dsn(settings.dsn, settings.app_dsn)  # least privilege: the server is never the owner
    server = build_dash(dsn, settings.region_code).server
    install_auth(server, dsn)  # first: every route below is behind the login gate
    install_api(server, dsn)
    server.register_blueprint(field_app())  # /field/: the field app's shell
    if settings.escalate_every_s > 0:
        start_escalator(dsn, settings.escalate_every_s)
    if settings.rollup_fold_every_s > 0:
        start_rollup_folder(dsn, settings.rollup_fold_every_s)
    if settings.bulletin_every_s > 0 and settings.dsn:
        start_bulletin_scheduler(settings.dsn, settings.region_code, settings.bulletin_every_s)
    install_request_id(server)  # X-Request-ID in and out; every log line of the request carries it
    if settings.trusted_proxies:  # the client's address as the proxies in front saw it, no further
        from werkzeug.middleware.proxy_fix import ProxyFix

        n = settings.trusted_proxies
        server.wsgi_app = ProxyFix(server.wsgi_app, x_for=n, x_proto=n, x_host=n)
    return server


def _log_level() -> str:
    try:
        return Settings.from_env().log_level
    except ValueError:  # a bad setting: _settings() reports it with the field's name
        return "INFO"


def _cli_time(text: str | None, option: str):
    """An instant given on the command line: ISO 8601 with a zone, by the one rule for every
    surface (``domain.values``: years 1900–2200, offsets within ±15:59); a usage error otherwise."""
    from domain import values

    if not text:
        return None
    if len(text.strip()) <= 10:
        raise click.BadParameter("give a date and time with a zone, e.g. 2026-06-01T08:00+08:00", param_hint=option)
    try:
        return values.parse_time(text, "UTC")
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint=option) from None


def _settings() -> Settings:
    from pydantic import ValidationError

    from db.cluster import ClusterError, resolve_dsn
    from db.core import DatabaseError

    try:
        settings = Settings.from_env()
    except ValidationError as exc:
        raise click.ClickException(f"bad configuration (see README, Configuration): {exc}") from exc
    try:  # without DATABASE_URL: the project-local cluster, started on demand
        return settings if settings.dsn else settings.model_copy(update={"dsn": resolve_dsn()})
    except (ClusterError, DatabaseError) as exc:
        raise click.ClickException(str(exc)) from exc


def _upgrade(settings: Settings) -> list[str]:
    from db.core import DatabaseError, connect, upgrade

    try:
        conn = connect(settings.dsn)
        try:
            return upgrade(conn)
        finally:
            conn.close()
    except DatabaseError as exc:
        raise click.ClickException(str(exc)) from exc


@click.group()
def cli() -> None:
    """OneMap — one-map command centre for grid-based county governance."""
    from web.logging import configure_logging

    configure_logging(_log_level())  # once, here: every command and the server log the same way


@cli.group()
def db() -> None:
    """Database: migrations and the local cluster."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply pending migrations (PostGIS and pgRouting extensions included)."""
    settings = _settings()
    done = _upgrade(settings)
    console.print(f"[green]database up to date[/] ({', '.join(done) if done else 'nothing to apply'})")


@db.command("status")
def db_status() -> None:
    """Show the database in use and its applied migrations."""
    from db.core import applied, connect, migrations, redact

    settings = _settings()
    conn = connect(settings.dsn)
    try:
        done = applied(conn)
    finally:
        conn.close()
    pending = [v for v, _ in migrations() if v not in done]
    click.echo(f"database: {redact(settings.dsn)}")
    click.echo(f"applied:  {', '.join(done) or '-'}")
    click.echo(f"pending:  {', '.join(pending) or '-'}")


@db.command("stop")
def db_stop() -> None:
    """Stop the project-local PostgreSQL cluster (not used when DATABASE_URL is set)."""
    from db.cluster import stop

    click.echo("stopped" if stop() else "local cluster was not running")


@cli.group(invoke_without_command=True)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8050, show_default=True, type=int)
@click.pass_context
def demo(ctx: click.Context, host: str, port: int) -> None:
    """Bring OneMap up on the demo county: upgrade, load if empty, serve."""
    if ctx.invoked_subcommand:
        return
    from demo.loader import is_loaded, load_demo

    settings = _settings()
    _upgrade(settings)
    if is_loaded(settings.dsn, settings.region_code):
        console.print("demo county already loaded (use `onemap demo load --replace` to rebuild it)")
    else:
        load_demo(settings.dsn, seed=1, incidents=None, console=console)
    from demo.users import login_hint

    console.print(login_hint(), highlight=False, markup=False)
    console.print(f"Wall display: http://{host}:{port}/wall   API: http://{host}:{port}/api/v1/openapi.json   "
                  f"Open311: http://{host}:{port}/open311/v2/discovery.json", highlight=False, markup=False)
    _serve(settings, host, port)


@demo.command("load")
@click.option("--incidents", type=click.IntRange(min=0), default=None,
              help="number of incidents in the history (default: a demo-sized year)")
@click.option("--seed", type=int, default=1, show_default=True, help="random seed; same seed, same county")
@click.option("--now", "now_text", default=None, help="ISO time taken as 'now' (default: the clock)")
@click.option("--replace", is_flag=True, help="delete the demo county first if it is loaded")
def demo_load(incidents: int | None, seed: int, now_text: str | None, replace: bool) -> None:
    """Generate and load the demo county (grid, facilities, roads, workers, incidents)."""
    from demo.loader import DemoError, is_loaded, load_demo

    settings = _settings()
    _upgrade(settings)
    now = _cli_time(now_text, "--now")
    if is_loaded(settings.dsn, settings.region_code) and not replace:
        raise click.ClickException(
            f"region {settings.region_code} is already loaded; add --replace to rebuild it")
    try:
        load_demo(settings.dsn, seed=seed, incidents=incidents, now=now, replace=replace, console=console)
    except DemoError as exc:
        raise click.ClickException(str(exc)) from exc


@cli.group()
def grids() -> None:
    """Grid units: import real grids, check what is stored."""


@grids.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--level", type=int, required=True, help="grid level in the file: 1 banner … 4 cell")
@click.option("--layer", default=None, help="layer name inside a multi-layer file")
@click.option("--gcj02", is_flag=True, help="the file's coordinates are GCJ-02 (AMap/Tencent)")
@click.option("--code-field", default="code", show_default=True)
@click.option("--name-field", default="name", show_default=True)
@click.option("--parent-field", default="parent_code", show_default=True)
@click.option("--replace", is_flag=True, help="replace units with the same codes")
def grids_import(file: Path, level: int, layer: str | None, gcj02: bool, code_field: str,
                 name_field: str, parent_field: str, replace: bool) -> None:
    """Import grid units of one level from GeoPackage, GeoJSON or zipped Shapefile (all or nothing)."""
    from data.grid_import import ImportRefused, import_grid_file

    settings = _settings()
    _upgrade(settings)
    try:
        n = import_grid_file(settings.dsn, file, level=level, layer=layer, gcj02=gcj02,
                             code_field=code_field, name_field=name_field,
                             parent_field=parent_field, replace=replace, console=console)
    except ImportRefused as exc:
        console.print(exc.report())
        sys.exit(2)
    console.print(f"[green]imported {n} level-{level} units[/]")


@grids.command("check")
@click.option("--region", default=None, help="region code (default: ONEMAP_REGION or 150623)")
def grids_check(region: str | None) -> None:
    """Check the stored grid: codes, parents, validity, containment, overlaps, gaps."""
    from rich.markup import escape

    from data.grid_import import check_stored

    settings = _settings()
    problems = check_stored(settings.dsn, region or settings.region_code, console=console)
    if problems:
        for p in problems:
            # escaped: "[gap]" and GEOS reasons like "Self-intersection[x y]" are not markup;
            # soft_wrap keeps one problem per line, so logs can be grepped
            console.print(f"[red]{escape(str(p))}[/]", soft_wrap=True)
        console.print(f"[red]{len(problems)} problem(s)[/]")
        sys.exit(1)
    console.print("[green]grid OK[/]: levels tile their parents, codes and parents are consistent")


@cli.command()
@click.option("--now", "now_text", default=None, help="ISO time taken as 'now' (default: the clock)")
@click.option("--region", default=None, help="only this region (default: all)")
def escalate(now_text: str | None, region: str | None) -> None:
    """Escalate every incident past its deadline, once per level (the server also does this)."""
    from datetime import datetime, timezone

    from data.incidents import escalate_due
    from db.core import connect

    settings = _settings()
    now = _cli_time(now_text, "--now") or datetime.now(timezone.utc)
    conn = connect(settings.dsn)
    try:
        made = escalate_due(conn, now=now, region_code=region)
    finally:
        conn.close()
    console.print(f"escalated {made} incident level(s)")


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8050, show_default=True, type=int)
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="worker processes (default: ONEMAP_WORKERS, else one per CPU)")
def serve(host: str, port: int, workers: int | None) -> None:
    """Serve OneMap in production: gunicorn, several processes, gevent (an open page costs no thread)."""
    settings = _settings()
    if workers:
        settings = settings.model_copy(update={"workers": workers})
    _upgrade(settings)
    _serve(settings, host, port)


def _serve(settings: Settings, host: str, port: int) -> None:
    """Run the production server (web/server.py) in the foreground until Ctrl-C or SIGTERM."""
    from web.server import PortInUse, ensure_port_free, worker_count
    from web.server import serve as serve_forever

    try:
        ensure_port_free(host, port)
    except PortInUse as exc:
        raise click.ClickException(str(exc)) from None
    console.print(f"[bold green]OneMap is up:[/] open http://{host}:{port}/  "
                  f"({worker_count(settings)} processes; Ctrl-C to stop)")
    serve_forever(lambda: create_app(settings), settings, host, port)


@cli.group()
def users() -> None:
    """User accounts: roles, jurisdictions, bearer tokens."""


class _UserErrors:
    """Turn ``UserError``/``DatabaseError`` into a click error: a message, not a traceback."""

    def __enter__(self):
        return self

    def __exit__(self, kind, exc, tb):
        from data.users import UserError
        from db.core import DatabaseError

        if isinstance(exc, (UserError, DatabaseError)):
            raise click.ClickException(str(exc)) from exc
        return False


@users.command("add")
@click.argument("username")
@click.option("--role", required=True, type=click.Choice(["admin", "dispatcher", "leader", "analyst",
                                                         "department", "worker"]))
@click.option("--unit", "unit_code", default=None,
              help="jurisdiction: a grid unit code at any level (a worker's defaults to the worker's cell)")
@click.option("--department", "department_code", default=None, help="department code (department staff)")
@click.option("--worker", "worker_code", default=None, help="grid worker roster code (worker accounts)")
@click.option("--name", "display_name", default="", help="display name")
@click.option("--password-stdin", is_flag=True, help="read the password from standard input")
def users_add(username: str, role: str, unit_code: str | None, department_code: str | None,
              worker_code: str | None, display_name: str, password_stdin: bool) -> None:
    """Create an account (the password is prompted for unless --password-stdin)."""
    from data.users import create_user
    from db.core import transaction

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("password", hide_input=True, confirmation_prompt=True)
    settings = _settings()
    _upgrade(settings)
    with _UserErrors(), transaction(settings.dsn) as conn:
        create_user(conn, username, password, role, unit_code, display_name=display_name,
                    department_code=department_code, worker_code=worker_code)
    console.print(f"[green]created[/] {username.lower()} ({role})")


@users.command("list")
@click.option("--region", default=None, help="only this region (default: all)")
def users_list(region: str | None) -> None:
    """List accounts: role, jurisdiction, state, live tokens."""
    from data.users import list_users
    from db.core import connect

    settings = _settings()
    _upgrade(settings)
    conn = connect(settings.dsn)
    try:
        rows = list_users(conn, region)
    finally:
        conn.close()
    click.echo(f"{'username':<28}{'role':<12}{'unit':<17}{'state':<10}tokens  name")
    for r in rows:
        state = "disabled" if r["disabled"] else "active"
        click.echo(f"{r['username']:<28}{r['role']:<12}{r['unit_code']:<17}{state:<10}"
                   f"{r['tokens']:<8}{r['display_name']} · {r['unit_name']}")


@users.command("disable")
@click.argument("username")
def users_disable(username: str) -> None:
    """Disable an account, revoke its tokens and end its sessions and live streams at once."""
    from data.audit import audit
    from data.users import disable_user
    from db.core import transaction

    settings = _settings()
    _upgrade(settings)
    with _UserErrors(), transaction(settings.dsn) as conn:
        revoked = disable_user(conn, username)
        audit(conn, None, "user_disabled", "app_user", username.lower(), {"by": "cli"},
              region_code=settings.region_code)
    console.print(f"[yellow]disabled[/] {username.lower()}; {revoked} token(s) revoked, sessions ended")


@users.command("passwd")
@click.argument("username")
@click.option("--password-stdin", is_flag=True, help="read the new password from standard input")
def users_passwd(username: str, password_stdin: bool) -> None:
    """Set an account's password and end every session and live stream it has (tokens stay)."""
    from data.audit import audit
    from data.users import set_password
    from db.core import transaction

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("new password", hide_input=True, confirmation_prompt=True)
    settings = _settings()
    _upgrade(settings)
    with _UserErrors(), transaction(settings.dsn) as conn:
        ended = set_password(conn, username, password)
        audit(conn, None, "password_set", "app_user", username.lower(), {"by": "cli", "sessions_ended": ended},
              region_code=settings.region_code)
    console.print(f"[green]password set[/] for {username.lower()}; {ended} session(s) ended")


@users.command("token")
@click.argument("username")
@click.option("--name", default="", help="what the token is for, e.g. the phone or kiosk")
@click.option("--days", type=click.IntRange(min=1), default=None, help="expire after D days (default: never)")
@click.option("--read-only", is_flag=True, help="a kiosk token: may read, never change anything")
def users_token(username: str, name: str, days: int | None, read_only: bool) -> None:
    """Issue a bearer token and print it once (only its hash is stored)."""
    from data.users import issue_token
    from db.core import transaction

    settings = _settings()
    _upgrade(settings)
    with _UserErrors(), transaction(settings.dsn) as conn:
        token = issue_token(conn, username, name, days=days, read_only=read_only)
    console.print("token (shown once, store it now):")
    click.echo(token)


class Refused(click.ClickException):
    """A named refusal of bad input: the message says what to change; exit status 2, nothing written."""

    exit_code = 2

    def format_message(self) -> str:
        return f"refused: {self.message}"


@cli.command("export")
@click.argument("layers", nargs=-1, required=True)
@click.option("--format", "fmt", default="gpkg", show_default=True,
              help="gpkg, geojson, fgb, shp (zipped), kml or csv (WKT, UTF-8 BOM)")
@click.option("--crs", default="EPSG:4490", show_default=True, help="EPSG:4326, EPSG:4490, EPSG:4545 or GCJ-02")
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="output file (default: named after the layers, in the current directory)")
@click.option("--since", default=None,
              help="from this time: ISO with a zone (2026-06-01T08:00+08:00) or a plain date in the region's zone")
@click.option("--until", default=None, help="before this time (same forms as --since)")
@click.option("--category", "categories", multiple=True,
              help="incident category: code or name, e.g. grassland_dispute or 草原牧场纠纷 (repeatable)")
@click.option("--state", "states", multiple=True, help="incident state, or open/closed (repeatable)")
@click.option("--unit", default=None, help="only this grid unit (inside the account's jurisdiction)")
@click.option("--bbox", default=None, help="west,south,east,north in degrees")
@click.option("--user", "username", default=None,
              help="run as this account (its role and jurisdiction); default: masked, whole region")
def export(layers, fmt, crs, out, since, until, categories, states, unit, bbox, username) -> None:
    """Export map layers to a GIS file, streamed with a progress bar, limited and audited."""
    import getpass

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeRemainingColumn

    from exports import service as ex
    from layers.base import LayerError, Query, parse_bbox, parse_time, split
    from web.params import region_tz

    settings = _settings()
    try:
        tz = region_tz(settings.dsn, settings.region_code)  # plain dates are the region's calendar days
        query = Query(since=parse_time(since, "--since", tz), until=parse_time(until, "--until", tz),
                      categories=split(categories), states=split(states), unit=unit, bbox=parse_bbox(bbox))
        req = ex.ExportRequest(tuple(layers), fmt, crs, query).validated()
        actor = ex.cli_actor(settings.dsn, settings.region_code, username, getpass.getuser())
        out = out or Path(req.filename())
        if out.exists():
            raise Refused(f"{out} exists; choose another --out or remove it")
        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                      TimeRemainingColumn(), console=console) as bar:
            tasks: dict[str, TaskID] = {}

            def progress(name: str, done: int, total: int) -> None:
                if name not in tasks:
                    tasks[name] = bar.add_task(name, total=total)
                bar.update(tasks[name], completed=done)

            written = ex.run(settings.dsn, actor, req, out, progress)
    except LayerError as exc:
        raise Refused(str(exc)) from None
    summary = ", ".join(f"{k} {v:,}" for k, v in written.items())
    console.print(f"[green]wrote[/] {out} ({req.format}, {req.crs}): {summary}")


@cli.command("bulletin")
@click.option("--unit", default=None, help="grid unit code (banner, town or village); default: the whole region")
@click.option("--period", default=None, help="an ISO week (2026-W47) or a month (2026-11)")
@click.option("--format", "fmt", default="pdf", show_default=True, type=click.Choice(["pdf", "xlsx"]))
@click.option("--lang", default="zh", show_default=True, type=click.Choice(["zh", "en"]))
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="also copy the file here (default: bulletin-<unit>-<period>-<lang>.<format> here)")
@click.option("--due", is_flag=True,
              help="write last week's and last month's bulletins of the banner and each town not kept yet "
                   "(for a daily cron line)")
@click.option("--user", "username", default=None,
              help="run as this account (its role and jurisdiction); default: the whole region")
def bulletin(unit, period, fmt, lang, out, due, username) -> None:
    """A weekly or monthly bulletin of a unit as PDF or XLSX, kept and listed like the server's."""
    import getpass
    from datetime import datetime, timezone

    import exports.bulletin as bl
    from data.stats import region_timezone
    from domain import clock
    from exports import service as ex
    from layers.base import LayerError

    settings = _settings()
    try:
        actor = ex.cli_actor(settings.dsn, settings.region_code, username, getpass.getuser())
        if due:
            today = clock.local_date(datetime.now(timezone.utc), region_timezone(settings.dsn, actor.region_code))
            for row in bl.due(settings.dsn, actor, today, fmt, lang):
                console.print(f"[green]wrote[/] {bl.file_path(row)}")
            return
        if not period:
            raise Refused("give --period (2026-W47 or 2026-11), or --due")
        scope, p = bl.check(actor, unit, period, fmt, lang)
        out = out or Path(f"bulletin-{scope}-{p.text}-{lang}.{fmt}")
        if out.exists():
            raise Refused(f"{out} exists; choose another --out or remove it")
        row = bl.generate(settings.dsn, actor, unit, period, fmt, lang, out=out)
    except LayerError as exc:
        raise Refused(str(exc)) from None
    console.print(f"[green]wrote[/] {out} ({row['size_bytes']:,} bytes; kept as {row['id']})")


@cli.group()
def registry() -> None:
    """The "9+X" registries: xlsx import and export (houses, households, people, organisations and
    their staff, places, schools, protected lines); retention."""


def _registry_actor(settings: Settings, username: str | None):
    """The named account, or else an administrator over the region recorded as ``cli:<os user>``
    (the command line runs as the database owner, who may read everything anyway)."""
    import getpass

    from data.users import Actor
    from exports import service as ex
    from layers.base import LayerError

    if username is None:
        return Actor(user_id=None, username=f"cli:{getpass.getuser()}", role="admin",
                     unit_code=settings.region_code, region_code=settings.region_code)
    try:
        return ex.cli_actor(settings.dsn, settings.region_code, username, getpass.getuser())
    except LayerError as exc:
        raise Refused(str(exc)) from None


def _sheet_kind(_ctx, _param, value: str) -> str:
    from data.registry_xlsx import KINDS

    if value in KINDS or (value.startswith("x:") and len(value) > 2):
        return value
    raise click.BadParameter(f"one of {', '.join(KINDS)}, or x:CODE for a local record type")


KIND = click.option("--kind", required=True, callback=_sheet_kind,
                    help="people, houses, households, orgs, staff, places, schools, lines, or x:CODE (a local type)")
AS_USER = click.option("--user", "username", default=None,
                       help="run as this account (its role and jurisdiction); default: admin of the region")


@registry.command("import")
@KIND
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@AS_USER
def registry_import(kind: str, file: Path, username: str | None) -> None:
    """Import an xlsx sheet (Chinese header row), all or nothing: errors listed by row and column."""
    from data import registry_xlsx, registry_xlsx_x
    from db.core import connect

    settings = _settings()
    _upgrade(settings)
    actor = _registry_actor(settings, username)
    conn = connect(settings.dsn)
    try:
        stored = registry_xlsx_x.import_sheet(conn, actor, kind, file)
    except registry_xlsx.ImportRefused as exc:
        for e in exc.extra.get("errors", []):
            where = f"第{e['row']}行" + (f" {e['column']}列 {e['header']}" if e["column"] else "")
            click.echo(f"{where}: {e['message']}", err=True)
        raise Refused(f"{len(exc.extra.get('errors', []))} error(s) in {file}; nothing was imported") from None
    except registry_xlsx.IncidentError as exc:
        raise Refused(exc.message) from None
    finally:
        conn.close()
    console.print(f"[green]imported[/] {stored:,} {kind} from {file}")


@registry.command("export")
@KIND
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--unit", default=None, help="only this grid unit (inside the account's jurisdiction)")
@click.option("--template", is_flag=True, help="write the empty template (headers and drop-down lists)")
@AS_USER
def registry_export(kind: str, file: Path, unit: str | None, template: bool, username: str | None) -> None:
    """Export a registry to xlsx (ID numbers and phones masked; audited), or its empty template."""
    from data import registry_xlsx, registry_xlsx_x
    from db.core import connect

    if file.suffix.lower() != ".xlsx":
        raise Refused(f"{file} must end in .xlsx")
    if file.exists():
        raise Refused(f"{file} exists; choose another name or remove it")
    if not file.parent.is_dir():
        raise Refused(f"folder {file.parent} does not exist")
    if template and registry_xlsx_x.code_of(kind) is None:
        file.write_bytes(registry_xlsx.template(kind))
        console.print(f"[green]wrote[/] the {kind} template {file}")
        return
    settings = _settings()
    _upgrade(settings)
    actor = _registry_actor(settings, username)
    conn = connect(settings.dsn)
    try:
        if template:  # a local type's columns are its declaration's
            file.write_bytes(registry_xlsx_x.template(conn, actor, kind))
            console.print(f"[green]wrote[/] the {kind} template {file}")
            return
        body, rows = registry_xlsx_x.export_sheet(conn, actor, kind, unit)
        file.write_bytes(body)
        conn.commit()  # the audit row, once the file is written
    except registry_xlsx.IncidentError as exc:
        raise Refused(exc.message) from None
    finally:
        conn.close()
    console.print(f"[green]wrote[/] {file}: {rows:,} {kind}")


@registry.command("kind")
@click.argument("code")
@click.argument("name")
@click.option("--fields", "fields_file", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="a JSON list of field specs: key, label, type (text/int/float/bool/date/choice), required, …")
@click.option("--name-en", default="", help="the type's English name")
@click.option("--personal", is_flag=True, help="its records are about people (listed like the people registry)")
@click.option("--region", default=None, help="region code (default: ONEMAP_REGION or 150623)")
def registry_kind(code: str, name: str, fields_file: Path, name_en: str, personal: bool, region: str | None) -> None:
    """Declare (or redeclare) a local "X" record type as data; its records are checked against it."""
    import json

    from data.registry_groups import declare_kind
    from db.core import connect

    settings = _settings()
    _upgrade(settings)
    try:
        fields = json.loads(fields_file.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise Refused(f"{fields_file} is not JSON: {exc}") from None
    conn = connect(settings.dsn)
    try:
        with conn:
            checked = declare_kind(conn, region or settings.region_code, code, name, fields, name_en, personal)
    except ValueError as exc:
        raise Refused(str(exc)) from None
    finally:
        conn.close()
    click.echo(f"declared {code} ({name}) with {len(checked)} field(s)")


@registry.command("purge")
@click.option("--days", type=click.IntRange(min=0), default=None,
              help="retention after moving out (default: ONEMAP_REGISTRY_RETENTION_DAYS)")
@click.option("--now", "now_text", default=None, help="ISO time taken as 'now' (default: the clock)")
@click.option("--region", default=None, help="region code (default: ONEMAP_REGION or 150623)")
def registry_purge(days: int | None, now_text: str | None, region: str | None) -> None:
    """Anonymise people who moved away longer ago than the retention period (PIPL art. 19/47)."""
    from datetime import datetime, timezone

    from db.core import connect

    settings = _settings()
    _upgrade(settings)
    now = _cli_time(now_text, "--now") or datetime.now(timezone.utc)
    keep = settings.registry_retention_days if days is None else days
    conn = connect(settings.dsn)
    try:
        with conn, conn.cursor() as cur:
            cur.execute("SELECT reg_retention_purge(%s, %s, %s)", (region or settings.region_code, keep, now))
            n = cur.fetchone()[0]
    finally:
        conn.close()
    click.echo(f"anonymised {n} people who moved away more than {keep} days ago")


@cli.group()
def roads() -> None:
    """Road network: import from OpenStreetMap, service-reach isochrones, coverage."""


@roads.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--region", default=None, help="region code (default: ONEMAP_REGION or 150623)")
def roads_import(file: Path, region: str | None) -> None:
    """Replace a region's road network with the highways of an OSM XML (or, with osmium, PBF) file."""
    from data.osm_import import ImportRefused, import_osm
    from db.core import DatabaseError, connect

    settings = _settings()
    _upgrade(settings)
    region = region or settings.region_code
    try:
        conn = connect(settings.dsn)
        try:
            report = import_osm(conn, file, region)
        finally:
            conn.close()
    except ImportRefused as exc:
        click.echo(f"refused: {exc}", err=True)
        raise SystemExit(2) from exc
    except DatabaseError as exc:
        raise click.ClickException(str(exc)) from exc
    for line in report.lines():
        click.echo(line)
    click.echo(f"region {region}: road network replaced; isochrones rebuild on their next read")


@roads.command("isochrones")
@click.option("--refresh", is_flag=True, help="rebuild all, not only those whose network or facilities changed")
@click.option("--region", default=None, help="region code (default: ONEMAP_REGION or 150623)")
def roads_isochrones(refresh: bool, region: str | None) -> None:
    """Build the 10- and 30-minute isochrones of every facility kind."""
    from data.routing.reach import refresh_all
    from db.core import connect

    settings = _settings()
    _upgrade(settings)
    conn = connect(settings.dsn)
    try:
        for kind, minutes, rebuilt in refresh_all(conn, region or settings.region_code, force=refresh):
            click.echo(f"{kind:<18} {minutes:>3} min  {'rebuilt' if rebuilt else 'up to date'}")
    finally:
        conn.close()


@roads.command("coverage")
@click.option("--kind", default="governance_centre", show_default=True, help="facility kind that serves")
@click.option("--region", default=None, help="region code (default: ONEMAP_REGION or 150623)")
def roads_coverage(kind: str, region: str | None) -> None:
    """Share of residents inside the 10-minute (town) / 30-minute (pastoral) circle, and the gaps."""
    from types import SimpleNamespace

    from data.routing import IncidentError
    from data.routing.reach import coverage
    from db.core import connect

    settings = _settings()
    _upgrade(settings)
    region = region or settings.region_code
    conn = connect(settings.dsn)
    try:
        result = coverage(conn, SimpleNamespace(region_code=region, unit_code=region), kind)
    except IncidentError as exc:
        raise click.ClickException(exc.message) from exc
    finally:
        conn.close()
    k = result["kpi"]
    share = "n/a" if k["share"] is None else f"{k['share']:.1%}"
    click.echo(f"{kind}: {k['covered']:.0f} of {k['residents']} residents covered ({share}); "
               f"{k['gap_cells']} of {k['cells']} cells under {result['threshold']:.0%}, "
               f"gap population {k['gap_population']:.0f}")
    for c in sorted((c for c in result["cells"] if c["gap"]), key=lambda c: -c["gap_population"])[:10]:
        click.echo(f"  {c['code']} {c['village']}/{c['name']} ({c['type']}, {c['minutes']} min): "
                   f"{c['share']:.0%} of {c['residents']}")


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="onemap")


if __name__ == "__main__":
    main()
