"""``flask`` commands for operators: first admin, imports, demo data, links, the worker."""

from __future__ import annotations

import signal
import threading
import time
from pathlib import Path

import click
import redis
from flask import Flask, current_app
from flask.cli import with_appcontext

from app.errors import ChorusError
from app.extensions import db, get_redis
from app.models import Employee, Role


def _fail(exc: ChorusError) -> None:
    db.session.rollback()
    raise click.ClickException(exc.message)


@click.command("create-admin")
@click.argument("email")
@click.option("--name", required=True, help="The admin's full name.")
@with_appcontext
def create_admin(email: str, name: str) -> None:
    """Create the first admin (or make an existing employee admin) and print a sign-in link.
    A new installation also gets the company settings and the default scoring rules."""
    from app.services.people import (
        company_settings,
        create_employee,
        find_employee_by_email,
        update_employee,
    )
    from app.services.rules import install_default_rules
    from app.services.sign_in import sign_in_url
    from app.services.single_row import stored_single_row

    try:
        employee = find_employee_by_email(email)
        if employee is None:
            employee = create_employee(None, email=email, name=name, role=Role.ADMIN)
        else:
            # Reactivated too: the link printed below must work. Audited like any change.
            update_employee(None, employee, {"role": Role.ADMIN, "active": True})
        stored_single_row(company_settings())  # the environment's name and time zone
        installed = install_default_rules(employee)
        db.session.commit()
    except ChorusError as exc:
        _fail(exc)
    if installed:
        click.echo(f"Installed {len(installed)} default scoring rules (HR can change them).")
    click.echo(f"{employee.email} is an admin. Sign in at:\n{sign_in_url(employee)}")


@click.command("sign-in-link")
@click.argument("email")
@with_appcontext
def sign_in_link(email: str) -> None:
    """Print a fresh sign-in link for EMAIL (for operators when mail is not set up)."""
    from app.services.people import find_employee_by_email
    from app.services.sign_in import sign_in_url

    employee = find_employee_by_email(email)
    if employee is None or not employee.is_active:
        raise click.ClickException(f"No active employee with the address {email}.")
    click.echo(sign_in_url(employee))


@click.command("import-people")
@click.argument("csv_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--create-teams",
    is_flag=True,
    help="Create teams named in the file that do not exist yet (otherwise their rows "
    "are rejected, so that a misspelt name cannot become a team).",
)
@with_appcontext
def import_people(csv_file: Path, create_teams: bool) -> None:
    """Create or update employees from CSV (columns: email,name,team,role).

    Good rows are saved; the exit status is 1 when any row was rejected, so that a
    scheduled import notices."""
    from app.services.people import import_people as run_import

    try:
        text = csv_file.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise click.ClickException(
            f"{csv_file} is not UTF-8 text; save it as CSV (UTF-8)."
        ) from exc
    try:
        report = run_import(None, text, create_teams=create_teams)
        db.session.commit()
    except ChorusError as exc:
        _fail(exc)
    click.echo(
        f"created {report.created}, updated {report.updated}, "
        f"new teams {len(report.teams_created)}, rejected {len(report.rejected)}"
    )
    for row in report.rejected:
        click.echo(f"  line {row['line']}: {row['reason']}", err=True)
    if report.rejected:
        click.get_current_context().exit(1)


@click.command("create-token")
@click.argument("owner_email")
@click.option("--name", required=True, help="What the token is for, e.g. 'ATS webhook'.")
@with_appcontext
def create_token(owner_email: str, name: str) -> None:
    """Create an API token acting as OWNER_EMAIL; the secret is printed once."""
    from app.services.people import find_employee_by_email
    from app.services.tokens import create_token as make_token

    owner = find_employee_by_email(owner_email)
    if owner is None:
        raise click.ClickException(f"No employee with the address {owner_email}.")
    try:
        _token, secret = make_token(None, owner, name)
        db.session.commit()
    except ChorusError as exc:
        _fail(exc)
    click.echo(secret)


def wait_for_redis(timeout: float = 30.0) -> None:
    """Processes started together (``make run``, a container platform) may come up
    before Redis answers: wait for it a little rather than fail at once."""
    connection = get_redis()
    deadline = time.monotonic() + timeout
    while True:
        try:
            connection.ping()
            return
        except (redis.ConnectionError, redis.TimeoutError) as exc:
            if time.monotonic() > deadline:
                # Not the URL itself: it may hold a password.
                raise click.ClickException(
                    f"Redis did not answer within {timeout:.0f} s; check REDIS_URL."
                ) from exc
            time.sleep(0.2)


@click.command("seed-demo")
@click.option("--links/--no-links", default=True, help="Print sign-in links for demo users.")
@with_appcontext
def seed_demo(links: bool) -> None:
    """Load the demo company (idempotent) and print sign-in links for each role."""
    wait_for_redis()
    from app.demo import DEMO_LOGINS, load_demo
    from app.services.people import find_employee_by_email
    from app.services.sign_in import sign_in_url

    created = load_demo()
    db.session.commit()
    if created:
        from app.demo import load_demo_rewards
        from app.jobs import settle_points

        # A worker started alongside (make run) may be scoring them already: wait for
        # it, so that every point is in the ledger before the redemptions below.
        done = settle_points(max_batches=1000, wait=300)
        click.echo(
            f"Demo data loaded: its events are in the ledger ({done['events']} scored "
            "here, any others by the worker)."
        )
        # The game before the catalogue opened: badges, a settled challenge, lessons,
        # running challenges; settlement reads the scored ledger.
        from app.demo import load_demo_game, load_demo_game_since

        game = load_demo_game()
        db.session.commit()
        click.echo(
            f"Game loaded: {game['settled']} settled and {game['running']} running "
            "challenges, lessons and badges."
        )
        # Redemptions spend real balances, so they come once the points are scored.
        redeemed = load_demo_rewards()
        db.session.commit()
        click.echo(f"Reward catalogue loaded with {redeemed} redemptions.")
        since = load_demo_game_since()
        db.session.commit()
        settle_points(max_batches=1000, wait=300)  # prize and lesson points onto the boards
        click.echo(
            f"A team reward with {since['pledges']} pledges; {since['grants']} badges earned "
            "over the demo's history."
        )
    else:
        click.echo("Demo data was there already.")
    from app.mail import where_mail_goes

    click.echo(where_mail_goes())
    if links:
        click.echo("Sign-in links (single use; `flask sign-in-link EMAIL` prints new ones):")
        for role, email in DEMO_LOGINS.items():
            employee: Employee = find_employee_by_email(email)
            click.echo(f"  {role:<9} {employee.name:<22} {sign_in_url(employee)}")


@click.command("worker")
@click.option("--burst", is_flag=True, help="Work until the queues are empty, then stop.")
@click.option(
    "--quiet",
    is_flag=True,
    help="Log only RQ's warnings and errors, not every job's start and end (make run).",
)
@with_appcontext
def worker(burst: bool, quiet: bool) -> None:
    """Run an RQ worker with the scheduler on every Chorus queue."""
    from app.jobs import make_worker

    wait_for_redis()
    make_worker(current_app._get_current_object()).work(
        burst=burst,
        with_scheduler=True,
        logging_level="WARNING" if quiet else current_app.config["LOG_LEVEL"],
    )


@click.command("settle-points")
@with_appcontext
def settle_points() -> None:
    """Score waiting events now and bring the boards up to date."""
    from app.jobs import settle_points as settle

    done = settle(max_batches=10_000)
    click.echo(f"scored {done['events']} events; {done['lines']} ledger lines on the boards")


@click.command("rebuild-boards")
@with_appcontext
def rebuild_boards() -> None:
    """Recompute every leaderboard from the ledger (the ledger is the truth)."""
    from app.jobs import rebuild_boards as rebuild

    click.echo(f"rebuilt {rebuild()} boards")


@click.command("rebuild-rollups")
@click.option(
    "--since",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="Only the days from this date (company time zone) on, e.g. 2026-11-01.",
)
@with_appcontext
def rebuild_rollups(since) -> None:
    """Recompute the analytics rollups from shares, clicks, referrals and the ledger,
    and the kept headcounts from who took part when, in one transaction."""
    from app.jobs import rebuild_rollups as rebuild

    written = rebuild(since.date().isoformat() if since else None)
    periods = written.pop("headcounts")
    tables = ", ".join(f"{table}: {rows} rows" for table, rows in written.items())
    click.echo(f"{tables}; headcounts of {periods} finished periods kept")


@click.command("reseal-secrets")
@with_appcontext
def reseal_secrets() -> None:
    """Seal the secrets kept in the database anew under the first key of DATA_KEYS: after
    a new key was put first, and before the old one is dropped."""
    from sqlalchemy import select, update

    from app.sealed import Sealed

    resealed = 0
    for table in db.metadata.sorted_tables:
        for column in (column for column in table.columns if isinstance(column.type, Sealed)):
            kept = db.session.execute(select(table.c.id, column).where(column.is_not(None)))
            for row_id, value in kept.all():  # opened with any key, sealed with the first
                statement = update(table).where(table.c.id == row_id).values({column: value})
                db.session.execute(statement)
                resealed += 1
    db.session.commit()
    click.echo(f"sealed {resealed} secrets anew under the first key")


@click.command("recalculate")
@click.option(
    "--since",
    required=True,
    type=click.DateTime(formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S"]),
    help="Replay events from this date (company time zone), e.g. 2026-11-01.",
)
@with_appcontext
def recalculate(since) -> None:
    """After a rule change: replay events under today's rules, write compensating
    lines and update the boards. Running it again writes nothing new."""
    from zoneinfo import ZoneInfo

    from app.jobs import recalculate_points
    from app.services.people import company_settings

    zone = ZoneInfo(company_settings().time_zone)
    written = recalculate_points(since.replace(tzinfo=zone).isoformat())
    click.echo(f"wrote {written} compensating lines")


@click.command("clock")
@with_appcontext
def clock() -> None:
    """Enqueue the scheduled jobs (feed imports, click processing) on time. Safe to run
    more than one: each run of a job has one id."""
    from app.jobs import SCHEDULE, run_clock

    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    wait_for_redis()
    click.echo(f"clock: {len(SCHEDULE)} scheduled jobs")
    run_clock(current_app._get_current_object(), stop)


def init_app(app: Flask) -> None:
    commands = (
        create_admin,
        sign_in_link,
        import_people,
        create_token,
        seed_demo,
        worker,
        clock,
        settle_points,
        rebuild_boards,
        rebuild_rollups,
        reseal_secrets,
        recalculate,
    )
    for command in commands:
        app.cli.add_command(command)
