"""``tenggat web``: the web surface alone (health, console), without the scheduler's jobs;
``tenggat login``: a one-time sign-in link to the console.

`tenggat run` serves the same application beside its jobs when ``[web] port`` is set; this
command is for a second server behind the same reverse proxy, or for a look at the console
without sending anything.  The bot's webhook is answered 503 here: only `tenggat run`, while
it holds the scheduler lock, receives the updates.
"""

from __future__ import annotations

import signal
import threading
from typing import Any

import click

from scheduler.cli.shared import Typed, as_of_option, current, moment, stamp, writing
from scheduler.messages import say


@click.command("web")
@click.option(
    "--port", type=click.IntRange(0, 65535), help="Port to listen on (default: [web] port)."
)
@as_of_option(
    "Show every page as at this moment, not now (WITA; for a demonstration or a training on "
    "old records); sign-ins and writes keep the real time."
)
def web(port: int | None, as_of: Typed | None) -> None:
    """Serve the web console and GET /health until Ctrl-C or SIGTERM."""
    from scheduler import logs
    from scheduler.web.app import build
    from scheduler.web.server import serve

    ctx = current()
    logs.configure("info", ctx.config)
    settings = ctx.config.settings.web
    serving = serve(
        build(ctx.db, ctx.config, as_of=moment(ctx, as_of) if as_of else None, warm=True),
        settings.listen,
        port if port is not None else settings.port,
    )
    stop = threading.Event()

    def on_signal(_signum: int, _frame: Any) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    while not stop.wait(0.2):
        pass
    serving.stop()


@click.command("login")
@click.argument("nip")
@click.option(
    "--minutes",
    type=click.IntRange(1, 24 * 60),
    help="How long the link works (default: [web] login_minutes, 15).",
)
def login(nip: str, minutes: int | None) -> None:
    """Print a one-time link that signs NIP in to the web console (no password)."""
    from scheduler.store import records, signin

    ctx = current()
    settings = ctx.config.settings.web
    with writing(ctx) as session:
        employee = records.find_employee(session, nip)
        link = signin.issue_link(
            session, employee, ctx.now(), minutes or settings.login_minutes, ctx.user
        )
        who = {"name": employee.name, "key": employee.key}
    url = signin.link_url(settings, link.token)
    click.echo(say("login_link", ctx.language, until=stamp(ctx, link.expires_at), url=url, **who))
    if not settings.port and not settings.public_url:
        click.echo(say("login_web_off", ctx.language), err=True)


def register(cli: click.Group) -> None:
    cli.add_command(web)
    cli.add_command(login)
