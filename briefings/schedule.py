"""Run `briefings publish` every few minutes, so each briefing goes out at its embargo minute: the systemd
user units (a service and its timer) or the crontab line that do it."""

from __future__ import annotations

import hashlib
import re
import shlex
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from briefings.config import load_show, url_slug
from briefings.errors import BriefingsError, UsageError, printable

EVERY = re.compile(r"^(\d{1,2})([mh])$")


@dataclass(frozen=True)
class Interval:
    """How often to publish: every `count` minutes (unit "m") or hours ("h"), on the clock's round times."""

    count: int
    unit: str

    def __str__(self) -> str:
        noun = {"m": "minute", "h": "hour"}[self.unit]
        return f"every {noun}" if self.count == 1 else f"every {self.count} {noun}s"


def parse_every(text: str) -> Interval:
    """An --every value: minutes that divide the hour (5m) or hours that divide the day (1h)."""
    match = EVERY.match(text.strip())
    count, unit = (int(match.group(1)), match.group(2)) if match else (0, "")
    if unit == "m" and count == 60:
        count, unit = 1, "h"
    # Only divisors, so the runs fall on the same minutes every hour (5m: :00, :05 ... :55) and an embargo
    # at 10:00 is met at 10:00; cron's */7 would run at :56 and then :00 again.
    if count < 1 or (unit == "m" and 60 % count) or (unit == "h" and 24 % count):
        raise UsageError(
            f"--every {text}: not a number of minutes that divides the hour, or of hours that divides the day "
            "(fix: e.g. --every 5m, 10m, 15m, 30m or 1h)"
        )
    return Interval(count, unit)


def briefings_command() -> list[str]:
    """How a scheduler runs this installation of briefings: the `briefings` script beside this Python (a
    virtual environment's), else this Python with `-m briefings`; by absolute path, as cron and systemd
    start commands without the user's PATH."""
    script = Path(sys.executable).parent / "briefings"
    return [str(script)] if script.is_file() else [sys.executable, "-m", "briefings"]


def publish_command(executable: list[str], workspace: Path) -> list[str]:
    """The publish a scheduler runs: quiet, so a run that changes nothing prints nothing."""
    # A crontab line and a unit file setting are one line each: neither can carry a line break.
    if any(ord(character) < 32 or ord(character) == 127 for character in str(workspace)):
        raise BriefingsError(
            f"{printable(str(workspace))}: a control character in the workspace's path cannot go in a crontab or "
            "a systemd unit (fix: rename the folder)"
        )
    return [*executable, "-C", str(workspace), "publish", "-q"]


def cron_line(interval: Interval, command: list[str]) -> str:
    """The crontab line that runs `command` at `interval` (crontab(5): minute hour day month weekday command)."""
    step = "*" if interval.count == 1 else f"*/{interval.count}"
    minute, hour = (step, "*") if interval.unit == "m" else ("0", step)
    # cron hands the command to /bin/sh, so it is quoted for the shell; an unescaped % ends the command
    # there and turns the rest into its standard input (crontab(5)).
    text = " ".join(shlex.quote(argument) for argument in command).replace("%", "\\%")
    return f"{minute} {hour} * * * {text}"


def on_calendar(interval: Interval) -> str:
    """A systemd calendar event (systemd.time(7)) for `interval`, on the clock's round times."""
    if interval.unit == "m":
        return "*-*-* *:*:00" if interval.count == 1 else f"*-*-* *:00/{interval.count}:00"
    return "*-*-* *:00:00" if interval.count == 1 else f"*-*-* 00/{interval.count}:00:00"


def _specifiers_escaped(text: str) -> str:
    # systemd expands %-specifiers in Description= and ExecStart= (systemd.unit(5), "Specifiers"): a path
    # with a % in it must be shown and run as written.
    return text.replace("%", "%%")


def exec_argument(argument: str) -> str:
    """One ExecStart= argument, quoted as systemd.service(5) parses command lines."""
    # ExecStart= also expands $VARIABLES ("$$" is a literal $), and splits on spaces outside quotes.
    escaped = _specifiers_escaped(argument).replace("$", "$$")
    if argument and re.fullmatch(r"[A-Za-z0-9_@%+=:,./$-]+", argument):
        return escaped
    return '"' + escaped.replace("\\", "\\\\").replace('"', '\\"') + '"'


def unit_name(workspace: Path) -> str:
    """The units' name: the workspace folder's, and a hash of its path, so two shows' units never clash."""
    digest = hashlib.sha256(str(workspace).encode("utf-8")).hexdigest()[:8]
    return f"briefings-publish-{url_slug(workspace.name)}-{digest}"


def systemd_units(interval: Interval, command: list[str], workspace: Path) -> dict[str, str]:
    """The service that publishes once and the timer that starts it at `interval`, by file name."""
    name = unit_name(workspace)
    where = _specifiers_escaped(str(workspace))
    service = f"""# Written by `briefings schedule`: one quiet publish, started by {name}.timer.
[Unit]
Description=Publish the briefings in {where}

[Service]
Type=oneshot
ExecStart={" ".join(exec_argument(argument) for argument in command)}
"""
    timer = f"""# Written by `briefings schedule`: starts {name}.service {interval}, on the clock's round times.
[Unit]
Description=Publish the briefings in {where} {interval}

[Timer]
OnCalendar={on_calendar(interval)}
# systemd otherwise lets a timer fire up to a minute late (AccuracySec=1min) to save wake-ups.
AccuracySec=1s
# A run missed while the machine was off or asleep happens as soon as it is back.
Persistent=true

[Install]
WantedBy=timers.target
"""
    return {f"{name}.service": service, f"{name}.timer": timer}


def user_unit_folder(environment: Mapping[str, str]) -> Path:
    """Where systemd looks for a user's own units: $XDG_CONFIG_HOME/systemd/user, by default ~/.config/...

    A relative XDG_CONFIG_HOME is ignored, as the XDG Base Directory Specification says.
    """
    configured = environment.get("XDG_CONFIG_HOME", "")
    home = Path(configured) if Path(configured).is_absolute() else Path.home() / ".config"
    return home / "systemd" / "user"


def install(units: dict[str, str], folder: Path) -> list[Path]:
    """Write the units into `folder` (created if need be); the paths written."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in units.items():
        (folder / name).write_text(text, encoding="utf-8")
        written.append(folder / name)
    return written


@dataclass(frozen=True)
class Schedule:
    """What `briefings schedule` makes for a workspace: a crontab line, or systemd user units."""

    cron: str | None
    units: dict[str, str]

    @property
    def timer(self) -> str:
        """The timer unit's name."""
        return next(name for name in self.units if name.endswith(".timer"))


def make(workspace: Path, every: str, cron: bool) -> Schedule:
    """The schedule that publishes `workspace` every `every` (5m, 1h...); a workspace that cannot publish (no
    show.toml, or an invalid one) is refused now, not at every run."""
    interval = parse_every(every)
    workspace = workspace.resolve()
    load_show(workspace)
    command = publish_command(briefings_command(), workspace)
    if cron:
        return Schedule(cron_line(interval, command), {})
    return Schedule(None, systemd_units(interval, command, workspace))
