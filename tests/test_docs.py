"""Documentation is tested: every command, option and setting is documented, links resolve."""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest

from graphguard.cli import main
from graphguard.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
DOCS = "\n".join(
    p.read_text(encoding="utf-8")
    for p in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
)


def _commands(group: click.Group, prefix: str = "graphguard") -> list[tuple[str, click.Command]]:
    found: list[tuple[str, click.Command]] = []
    for name, command in sorted(group.commands.items()):
        path = f"{prefix} {name}"
        found.append((path, command))
        if isinstance(command, click.Group):
            found.extend(_commands(command, path))
    return found


COMMANDS = _commands(main)


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=[p for p, _ in COMMANDS])
def test_every_command_is_documented(path: str, command: click.Command) -> None:
    words = path.split()
    # "graphguard neo4j start|stop|status|env" documents each of its subcommands
    pattern = r"graphguard\s+" + r"\s+".join(
        rf"(?:[\w|\\-]*\|)?{re.escape(w)}(?:\\?\|[\w|\\-]*)?" for w in words[1:]
    )
    assert re.search(pattern, DOCS), f"`{path}` is not in README.md or docs/"
    assert command.help, f"`{path}` has no --help text"


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=[p for p, _ in COMMANDS])
def test_every_option_is_documented(path: str, command: click.Command) -> None:
    if isinstance(command, click.Group):
        return
    for parameter in command.params:
        if isinstance(parameter, click.Option) and parameter.help is None:
            pytest.fail(f"`{path} {parameter.opts[0]}` has no help text")


def _env_name(name: str) -> str:
    field = Settings.model_fields[name]
    alias = field.validation_alias
    choices = getattr(alias, "choices", None)
    return str(choices[0]) if choices else f"GRAPHGUARD_{name.upper()}"


@pytest.mark.parametrize("name", sorted(Settings.model_fields))
def test_every_setting_is_documented(name: str) -> None:
    assert _env_name(name) in DOCS, f"setting {_env_name(name)} is not documented"


def test_readme_opens_with_the_two_commands() -> None:
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    head = "\n".join(lines[:6])
    assert "graphguard dashboard" in head
    assert "python -m pytest" in head
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "python3 -m pytest" in ci or "python -m pytest" in ci


def test_relative_links_resolve() -> None:
    for page in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for target in re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", page.read_text(encoding="utf-8")):
            assert (page.parent / target).exists(), f"{page.name} links to missing {target}"
