"""What every hireops management command is based on: it speaks English, whatever
``LANGUAGE_CODE`` says.

``LANGUAGE_CODE`` is the admin's language for people who have not chosen one (Simplified
Chinese by default), and Django translates a command's messages into it, since a command has
no reader to ask. An operator's terminal, a deployment's log and the runbooks read English: a
command says "Unknown scope", not "未知的权限范围", unless it is asked otherwise with
``--language`` (``--language zh-hans``). The help, the messages, the errors and what the
command writes are all in that language; the test suite enumerates every command of the project
and holds each to it (``tests/test_commands_speak_english.py``).

    from hireops.core.management.base import HireopsCommand

    class Command(HireopsCommand):
        ...
"""

from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import translation

DEFAULT_LANGUAGE = "en"


def _asked(argv: Sequence[str]) -> str:
    """The language ``--language`` asks for in a command line not yet parsed (the help and
    the parser's own errors come before the options are read); English if none, or not one
    of ``LANGUAGES`` (the parser then refuses it, in English)."""
    known = {code for code, _name in settings.LANGUAGES}
    for i, arg in enumerate(argv):
        value = arg.split("=", 1)[1] if arg.startswith("--language=") else None
        if arg == "--language" and i + 1 < len(argv):
            value = argv[i + 1]
        if value in known:
            return value
    return DEFAULT_LANGUAGE


class HireopsCommand(BaseCommand):
    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        parser.add_argument(
            "--language",
            choices=[code for code, _name in settings.LANGUAGES],
            default=DEFAULT_LANGUAGE,
            help=f"The language of the command's messages (default: {DEFAULT_LANGUAGE}, whatever "
            "LANGUAGE_CODE says).",
        )
        return parser

    def run_from_argv(self, argv: list[str]) -> None:
        # From a terminal (manage.py): the help, the parser's errors and a CommandError's
        # message, written after execute() returns, in the language asked for too.
        with translation.override(_asked(argv)):
            super().run_from_argv(argv)

    def execute(self, *args: Any, **options: Any) -> str | None:
        # From call_command too (another command, a test): the same language.
        with translation.override(options.get("language") or DEFAULT_LANGUAGE):
            try:
                return super().execute(*args, **options)
            except CommandError as exc:
                # A lazy message would be read in the caller's language, after this returns.
                exc.args = tuple(str(arg) for arg in exc.args)
                raise
