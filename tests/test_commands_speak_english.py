"""Every management command of the project speaks English to an operator, whatever LANGUAGE_CODE
says (the admin's, Chinese by default), unless asked otherwise with ``--language``: its help,
its errors and what it writes (hireops.core.management.base). Enumerated: a new command is held to it
by itself. Its help names only options it has."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import get_commands, load_command_class
from django.core.management.base import CommandError
from django.utils import translation
from django.utils.translation import gettext as _

from hireops.core.management.base import HireopsCommand
from tests.conftest import ROOT

PROJECT = ("hireops", "bindings", "referrals", "orders")
COMMANDS = sorted((name, app) for name, app in get_commands().items() if app.split(".")[0] in PROJECT)
CHINESE = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")
OPTION = re.compile(r"(?<![\w-])--[a-z][a-z-]*[a-z]")
# Messages the project writes, translated in the Chinese catalogue: a command writing them shows
# which language it speaks.
MESSAGE, REFUSAL = "Unknown scope: %(scopes)s.", "No key starts with %(prefix)s."


@pytest.fixture
def chinese_deployment(settings):
    """A deployment as shipped: LANGUAGE_CODE zh-hans, and Chinese active (as Django makes it
    for a process that has no reader to ask)."""
    settings.LANGUAGE_CODE = "zh-hans"
    with translation.override("zh-hans"):
        yield


def command(name: str, app: str):
    return load_command_class(app, name)


def required_arguments(cmd, name: str) -> list[str]:
    """A command line the parser takes: a value for each required argument, and no checks."""
    parser = cmd.create_parser("manage.py", name)
    argv = []
    for action in parser._actions:
        if action.required:
            value = str(next(iter(action.choices))) if action.choices else "1"
            argv += [*action.option_strings[:1], value]
    known = {o for action in parser._actions for o in action.option_strings}
    return argv + (["--skip-checks"] if "--skip-checks" in known else [])


def test_the_enumeration_finds_the_projects_commands():
    names = {name for name, _app in COMMANDS}
    assert {
        "create_api_key",
        "revoke_api_key",
        "hireops_status",
        "feishu_sync",
        "feishu_publish_fields",
    } <= names


@pytest.mark.parametrize(("name", "app"), COMMANDS, ids=[name for name, _ in COMMANDS])
def test_every_command_is_based_on_the_projects_command(name, app):
    assert isinstance(command(name, app), HireopsCommand), f"{app}: class Command(HireopsCommand)"


@pytest.mark.parametrize(("name", "app"), COMMANDS, ids=[name for name, _ in COMMANDS])
def test_every_commands_help_is_english_and_names_only_its_options(name, app, chinese_deployment, capsys):
    cmd = command(name, app)
    with pytest.raises(SystemExit) as done:
        cmd.run_from_argv(["manage.py", name, "--help"])
    assert done.value.code == 0
    help_text = capsys.readouterr().out
    assert "--language" in help_text and not CHINESE.search(help_text), help_text
    options = {o for action in cmd.create_parser("manage.py", name)._actions for o in action.option_strings}
    assert set(OPTION.findall(help_text)) <= options, set(OPTION.findall(help_text)) - options


@pytest.mark.parametrize(("name", "app"), COMMANDS, ids=[name for name, _ in COMMANDS])
def test_every_commands_errors_are_english_unless_asked_otherwise(name, app, chinese_deployment, capsys):
    """The command fails as the project's commands do: it writes a message, then raises a
    CommandError, each through gettext, as run from a terminal (manage.py)."""

    def failing(self, *args, **options):
        self.stderr.write(_(MESSAGE) % {"scopes": "everything"})
        raise CommandError(_(REFUSAL) % {"prefix": "hko_x"})

    written = {}
    for language in (None, "zh-hans"):
        cmd = command(name, app)
        cmd.handle = failing.__get__(cmd)
        asked = ["--language", language] if language else []
        with pytest.raises(SystemExit) as done:
            cmd.run_from_argv(["manage.py", name, *required_arguments(cmd, name), *asked])
        assert done.value.code == 1
        written[language] = capsys.readouterr().err
    assert "Unknown scope: everything." in written[None], written[None]
    assert "CommandError: No key starts with hko_x." in written[None], written[None]
    assert not CHINESE.search(written[None])
    with translation.override("zh-hans"):  # asked for, it is the catalogue's
        assert _(REFUSAL) % {"prefix": "hko_x"} in written["zh-hans"] and CHINESE.search(written["zh-hans"])


def test_the_emulators_commands_have_nothing_to_translate():
    """The Feishu emulator stands outside the product (it may not import hireops.core): nothing
    it says goes through a translation, so its commands speak English as written."""
    if "sandbox" not in settings.INSTALLED_APPS:
        pytest.skip("the emulator is not installed")
    for path in Path(ROOT, "sandbox").rglob("*.py"):
        assert not re.search(r"gettext|django\.utils\.translation", path.read_text()), path
