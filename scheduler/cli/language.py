"""The commands' help and click's own frames ("Usage:", "Error:") in the admin's language.

click marks its strings for gettext with ``from gettext import gettext as _`` in each of its
modules, so they are translated by giving those modules the ``gettext`` of our catalog
``click.po``.  The commands' help is written in English in the code; the catalog's text for
it replaces it in the command tree before click parses anything, so that ``--help`` and
every usage error speak one language.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Iterator, Sequence

import click

from scheduler import catalog, configfile
from scheduler.cli.shared import SPOKEN

# click's modules that say something to a user through gettext.
_CLICK_MODULES = ("core", "decorators", "exceptions", "formatting", "parser", "types", "termui")
_ENGLISH: dict[object, str] = {}  # each command's and option's help as written in the code


def _helped(command: click.Command) -> Iterator[click.Command | click.Option]:
    """The command, its options and its subcommands: everything with a help text."""
    yield command
    yield from (p for p in command.params if isinstance(p, click.Option))
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            yield from _helped(sub)


def written(thing: click.Command | click.Option) -> str | None:
    """The help of a command or option as written in the code (English), whatever language
    the tree speaks now."""
    return _ENGLISH.get(thing, thing.help)


def speak(root: click.Command, language: str) -> None:
    """Make click and the help of every command under ``root`` speak ``language``."""
    translation = catalog.translations(language, "click")
    for name in _CLICK_MODULES:
        module = importlib.import_module(f"click.{name}")
        if hasattr(module, "_"):
            module._ = translation.gettext  # type: ignore[attr-defined]
        if hasattr(module, "ngettext"):
            module.ngettext = translation.ngettext  # type: ignore[attr-defined]
    for thing in _helped(root):
        if isinstance(thing, click.Command):
            # click keeps the --help option it made, worded in the language of that time;
            # dropped here, it is made again in this language.
            thing._help_option = None
            thing.options_metavar = translation.gettext("[OPTIONS]")
        if isinstance(thing, click.Group):
            thing.subcommand_metavar = translation.gettext("COMMAND [ARGS]...")
        if thing.help:
            english = _ENGLISH.setdefault(thing, thing.help)
            thing.help = catalog.help_text(english, language)


def _peek(args: Sequence[str], option: str, valued: frozenset[str]) -> str | None:
    """The value of one of the top command's options, read before click parses them (the
    language must be known before click says anything, `--help` included).  ``valued``
    names the top command's options that take a value, to step over their values."""
    found = None  # given twice, the last counts, as click takes it
    index = 0
    while index < len(args):
        arg = args[index]
        if not arg.startswith("-") or arg == "--":
            break  # the subcommand: the top command's options come before it
        if arg.startswith(option + "="):
            found = arg.split("=", 1)[1]
        elif arg in valued:
            if arg == option and index + 1 < len(args):
                found = args[index + 1]
            index += 1
        index += 1
    return found


def configured(config_path: str | None) -> str:
    """The configured language, read without loading the configuration (``--help`` should
    not wait for it); any fault of the file is reported by the command that loads it."""
    language = configfile.language(config_path, os.environ)
    return language if language in catalog.LANGUAGES else catalog.LANGUAGES[0]


class Speaking(click.Group):
    """The top command: settles the language (``--lang``, else the configuration) first."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        valued = frozenset(
            name
            for param in self.params
            if isinstance(param, click.Option) and not param.is_flag
            for name in param.opts
        )
        language = _peek(args, "--lang", valued)
        if language not in catalog.LANGUAGES:
            language = configured(_peek(args, "--config", valued))
        speak(self, language)
        ctx.meta[SPOKEN] = language  # for a value's refusal (`scheduler.cli.shared.When`)
        return super().parse_args(ctx, args)
