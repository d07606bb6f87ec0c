"""The Commands page (``cli.md``): every ``nablab`` command and option, read from the argument parser
(:func:`nablab.cli.build_parser`) when the site builds, so the page cannot drift from ``--help``."""

from __future__ import annotations

import argparse

from project_markdown import NOWRAP, code, table, text

from nablab.cli import build_parser
from nablab.cli.synopsis import all_synopses

INTRO = """\
`nablab` is one command with sub-commands, one per task: train a model, reproduce a course report,
export or query a trained model, inspect the data sets, check gradients, time the benchmarks.
Everything on this page is read from nablab's argument parser (`nablab.cli.build_parser`) when the
site is built, so it says what `nablab COMMAND --help` says.

For `nablab train`, every option is a setting of the run's `config.toml`: the *key* under the
option names it, and an experiment file sets the same keys.
"""


def shown(action: argparse.Action) -> bool:
    """Whether ``action`` is an option or argument a user types (not ``--help``, not a hidden one, not the
    table of sub-commands)."""
    hidden = isinstance(action, (argparse._HelpAction, argparse._SubParsersAction))
    return not hidden and action.help != argparse.SUPPRESS


def _default(action: argparse.Action) -> str:
    """The value used when the option is not given, as the reader would type it."""
    setting = getattr(action, "setting", None)
    if setting is not None:
        if setting.kind is bool:
            return "on; the flag turns it off" if setting.default else "off"
        return _value(getattr(action, "shown", None) or setting.show_default())
    if action.nargs == 0:
        return "—" if isinstance(action, argparse._VersionAction) else "off"
    default = action.default
    if default is None or default is argparse.SUPPRESS or default == []:
        return "—"
    if isinstance(default, (list, tuple)):
        return code(" ".join(map(str, default)))
    return _value(default)


def _value(value: object) -> str:
    """A default as code when it is a value to type (``0.05``, ``runs``), as text when it is a phrase."""
    return text(value) if " " in str(value) else code(value)


def _flags(action: argparse.Action) -> str:
    """``--flag VALUE`` (every spelling), or the positional argument's name."""
    if not action.option_strings:
        name = action.metavar or action.dest.upper()
        return code(f"{name} …" if action.nargs in ("+", "*") else name)
    value = "" if action.nargs == 0 or action.choices is not None and action.metavar is None else \
        f" {action.metavar or action.dest.upper()}"
    return ", ".join(code(flag + value) for flag in action.option_strings)


def _help(action: argparse.Action) -> str:
    """What the option does, then the values it takes (its choices)."""
    setting = getattr(action, "setting", None)
    words = text(setting.help if setting is not None else action.help or "")
    if isinstance(action, argparse._AppendAction) and "repeat" not in words:
        words += " (may be given more than once)"
    if action.choices is not None:
        words += f"{'. ' if words else ''}One of {', '.join(code(c) for c in action.choices)}."
    return words or "—"


def _option(action: argparse.Action) -> str:
    """The option as typed, and under it the config key it sets (``nablab train``'s settings)."""
    setting = getattr(action, "setting", None)
    return _flags(action) + (f"<br>key {code(setting.path)}" if setting is not None else "")


def _group_table(actions: list[argparse.Action]) -> str:
    """The table of ``actions``: each option (or positional argument), its default, and what it does."""
    rows = [[_option(action), _default(action), _help(action)] for action in actions]
    first = "option" if any(action.option_strings for action in actions) else "argument"
    return '<div class="options" markdown>\n\n' + table([first, "default", "what it does"], rows) + "\n</div>\n"


def _groups(parser: argparse.ArgumentParser) -> list[tuple[str, list[argparse.Action]]]:
    """``(title, actions)`` of each argument group that has something to show: the positional arguments,
    then the command's own groups (``nablab train``'s config sections), then the remaining options."""
    groups = {group.title: [a for a in group._group_actions if shown(a)] for group in parser._action_groups}
    arguments, options = groups.pop("positional arguments", []), groups.pop("options", [])
    ordered = [("Arguments", arguments), *groups.items(), ("Other options" if groups else "Options", options)]
    return [(title, actions) for title, actions in ordered if actions]


def _sub_helps(parser: argparse.ArgumentParser) -> dict[str, tuple[str, argparse.ArgumentParser]]:
    """``{name: (its one-line help, its parser)}`` of ``parser``'s sub-commands, in the order they were added."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {choice.dest: choice.help for choice in action._choices_actions}
            return {name: (helps.get(name) or "", sub) for name, sub in action.choices.items()}
    return {}


def _section(parser: argparse.ArgumentParser, prog: str, summary: str, depth: int) -> list[str]:
    """The heading, description and option tables of ``prog``, then those of its sub-commands."""
    parts = [f"{'#' * depth} `{prog}`\n"]
    parts += [f"{text(line)}\n" for line in (summary, parser.description) if line]
    for title, actions in _groups(parser):
        parts += [f"**{text(title)}**\n", _group_table(actions)]
    for name, (help_line, sub) in _sub_helps(parser).items():
        parts += _section(sub, f"{prog} {name}", help_line, depth + 1)
    return parts


def page() -> str:
    """The Markdown of ``cli.md``: the synopsis of every command, ``nablab``'s own options, then each command."""
    parser = build_parser()
    parts = [f"# Commands\n\n{NOWRAP}\n{INTRO}", f"## Synopsis\n\nEvery command on one screen:\n\n"
             f"```text\n{all_synopses(parser)}\n```\n", "## `nablab` itself\n", f"{text(parser.description)}\n",
             _group_table([a for a in parser._actions if shown(a)])]
    for name, (help_line, sub) in _sub_helps(parser).items():
        parts += _section(sub, f"nablab {name}", help_line, 2)
    return "\n".join(parts)
