"""The one-line-per-option synopsis of a ``nablab`` command, built from its parser (the README's Commands
section is this text; a test compares them).

``[--flag VALUE]`` shows the default, ``[--flag a|b|c]`` the choices (the default first, if there is
one), ``[--flag METAVAR]`` an option without a default, ``[--flag]`` a switch.
"""

from __future__ import annotations

import argparse

WIDTH = 118


def _value(action: argparse.Action) -> str:
    setting = getattr(action, "setting", None)
    default = setting.default if setting is not None else action.default
    choices = list(action.choices) if action.choices is not None else None
    if action.nargs in ("+", "*") and isinstance(default, list):
        return " ".join(map(str, default))
    if choices is not None:
        if default in choices and not isinstance(default, list):
            choices.remove(default)
            choices.insert(0, default)
        return "|".join(map(str, choices))
    if setting is not None:
        return getattr(action, "shown", None) or (setting.metavar if default is None else setting.show_default())
    if default is not None and default is not argparse.SUPPRESS:
        if isinstance(default, list):
            return (" " if action.nargs in ("+", "*") else ",").join(map(str, default))
        return str(default)
    return action.metavar or action.dest.upper()


def _item(action: argparse.Action) -> str:
    flag = max(action.option_strings, key=len)
    if action.nargs == 0:
        return f"[{flag}]"
    if isinstance(action, argparse._AppendAction):
        return f"[{flag} {action.metavar or action.dest.upper()} ...]"
    return f"[{flag} {_value(action)}]"


def _positional(action: argparse.Action) -> str:
    name = action.metavar or action.dest
    if action.choices is not None and action.metavar is None:
        name = "|".join(action.choices)
    if action.nargs == "+":
        return f"{name} [{name} ...]"
    if action.nargs == "?":
        return f"[{name}]"
    return name


def synopsis(parser: argparse.ArgumentParser, prog: str) -> str:
    """``prog`` followed by ``parser``'s arguments, wrapped at :data:`WIDTH` with aligned continuation lines."""
    items = []
    for action in parser._actions:
        if isinstance(action, (argparse._HelpAction, argparse._SubParsersAction)) or action.help == argparse.SUPPRESS:
            continue
        items.append(_item(action) if action.option_strings else _positional(action))
    lines, line = [], prog
    for item in items:
        if len(line) + 1 + len(item) > WIDTH and line.strip() != prog:
            lines.append(line)
            line = " " * len(prog)
        line += " " + item
    lines.append(line)
    return "\n".join(lines)


def subcommands(parser: argparse.ArgumentParser, prog: str = "nablab"):
    """``(prog name, parser)`` of every leaf command under ``parser``, in the order they were added."""
    found = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                deeper = subcommands(sub, f"{prog} {name}")
                found += deeper or [(f"{prog} {name}", sub)]
    return found


def all_synopses(parser: argparse.ArgumentParser) -> str:
    """Every command's synopsis, one after the other (the README's Commands block)."""
    return "\n".join(synopsis(sub, prog) for prog, sub in subcommands(parser))
