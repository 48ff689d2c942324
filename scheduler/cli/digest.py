"""``tenggat digest``: the Secretary's weekly compliance digest, shown on the terminal."""

from __future__ import annotations

import click

from scheduler.cli.shared import Typed, as_of_option, current, dump_json, moment


@click.command("digest")
@as_of_option(
    "The moment of the digest, local time, e.g. 03/03/2025 07.30; a date alone means "
    "the end of that day (default: now)."
)
@click.option("--unit", help="One unit's digest, as its head gets it (default: the whole agency).")
@click.option("--preview", is_flag=True, help="Only show the digest, without the delivery line.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "html", "json", "csv"]),
    default="text",
    show_default=True,
    help="text: as on Telegram and in the e-mail's plain part; html: the e-mail; "
    "csv: its attachment; json: the data, for scripts.",
)
@click.option("--lang", type=click.Choice(["id", "en"]), help="Language of the digest.")
def digest(
    as_of: Typed | None, unit: str | None, preview: bool, fmt: str, lang: str | None
) -> None:
    """Show the weekly compliance digest: on-time % per unit and rule against the 100%
    target, overdue items and how far they were escalated, deadlines of the next 14 days
    and who has not submitted, the change since a week ago, and each person's IKI
    achievement.

    This command only prints; it never sends.  Delivering the digest by Telegram and
    e-mail is the running service's job (`tenggat run`, by default on Mondays at 07:30).
    Without --preview a last line says to whom it goes (on stderr for html, json and csv,
    so the output stays machine-readable).
    """
    from notifications import digest as layout
    from scheduler.reports import digest as digest_module

    ctx = current()
    language = lang or ctx.language
    now = moment(ctx, as_of)
    try:
        built = digest_module.build(ctx.config, ctx.db, now, unit)
    except digest_module.UnknownUnit as exc:
        raise click.BadParameter(exc.text(language), param_hint="--unit") from None
    catalog = ctx.config.catalog
    if fmt == "json":
        dump_json(digest_module.as_json(built, catalog, language))
    else:
        shown = digest_module.view(built, catalog, language)
        if fmt == "text":
            click.echo(layout.render_text(shown), nl=False)
        elif fmt == "html":
            click.echo(layout.render_html(shown), nl=False)
        else:
            click.echo(digest_module.csv_text(shown), nl=False)
    if not preview:
        note = digest_module.delivery_note(ctx.config, ctx.db, built.unit, language)
        if fmt == "text":
            click.echo("\n" + note)
        else:
            click.echo(note, err=True)


def register(group: click.Group) -> None:
    group.add_command(digest)
