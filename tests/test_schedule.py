"""`briefings schedule`: the systemd user units and the crontab line that publish every few minutes."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

from briefings.schedule import Interval, on_calendar, parse_every
from tests.conftest import copy_example, run

SYSTEMD_ANALYZE = shutil.which("systemd-analyze")
# A folder name with what each format must quote or escape: a space, a shell quote, cron's % and systemd's $.
AWKWARD = "shows 100% it's $HOME"


def units_printed(output: str) -> dict[str, str]:
    """The unit files in `briefings schedule`'s output, by name (each starts with a `# NAME` line)."""
    found = re.split(r"^# (briefings-publish-\S+\.(?:service|timer))\n", output, flags=re.MULTILINE)
    return {name: text.rstrip("\n") + "\n" for name, text in zip(found[1::2], found[2::2], strict=True)}


def setting(unit: str, key: str) -> str:
    """The value of `key=` in a unit file."""
    return re.search(rf"^{key}=(.*)$", unit, flags=re.MULTILINE).group(1)  # type: ignore[union-attr]


def as_systemd_reads(value: str, expands: str) -> str:
    """A setting's value once systemd has expanded it: `%%` and `$$` stand for themselves; any other % or $
    (of those in `expands`) would be replaced by a specifier or a variable, and fails the test."""

    def literal(match: re.Match[str]) -> str:
        assert match.group(0)[1] == match.group(0)[0], f"systemd would expand {match.group(0)} in {value}"
        return match.group(0)[0]

    return re.sub(f"[{re.escape(expands)}](.|$)", literal, value)


@pytest.mark.parametrize(
    ("every", "calendar", "cron"),
    [("5m", "*-*-* *:00/5:00", "*/5 *"), ("1m", "*-*-* *:*:00", "* *"), ("60m", "*-*-* *:00:00", "0 *"),
     ("2h", "*-*-* 00/2:00:00", "0 */2")],
)  # fmt: skip
def test_every_falls_on_the_clocks_round_times(every: str, calendar: str, cron: str, tmp_path: Path) -> None:
    assert on_calendar(parse_every(every)) == calendar
    workspace = copy_example(tmp_path / "show")
    result = run(workspace, "schedule", "--cron", "--every", every)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(cron + " * * * ")
    if SYSTEMD_ANALYZE:
        # systemd's own reading of the calendar event: the next runs it would make.
        shown = subprocess.run(
            [SYSTEMD_ANALYZE, "calendar", "--iterations=2", calendar], capture_output=True, text=True, check=True
        ).stdout
        assert f"Normalized form: {calendar}" in shown


@pytest.mark.parametrize("every", ["7m", "0m", "90m", "5h", "5", "5 minutes", "-5m"])
def test_an_interval_that_does_not_divide_the_hour_or_day_is_a_usage_error(every: str, tmp_path: Path) -> None:
    result = run(copy_example(tmp_path / "show"), "schedule", "--every", every)
    assert result.exit_code == 2
    assert result.stderr == (
        f"Error: --every {every}: not a number of minutes that divides the hour, or of hours that divides the day "
        "(fix: e.g. --every 5m, 10m, 15m, 30m or 1h)\n"
    )
    assert parse_every("30m") == Interval(30, "m")


def test_systemd_units_pass_systemd_analyze_verify(tmp_path: Path) -> None:
    workspace = copy_example(tmp_path / AWKWARD)
    result = run(workspace, "schedule")
    assert result.exit_code == 0, result.output
    units = units_printed(result.stdout)
    [service] = [name for name in units if name.endswith(".service")]
    timer = service.removesuffix(".service") + ".timer"
    assert set(units) == {service, timer} and service.startswith("briefings-publish-shows-100-it-s-home-")
    assert setting(units[service], "Type") == "oneshot"
    assert setting(units[timer], "OnCalendar") == "*-*-* *:00/5:00"
    assert setting(units[timer], "AccuracySec") == "1s" and setting(units[timer], "Persistent") == "true"
    assert setting(units[timer], "WantedBy") == "timers.target"
    # As systemd reads them (systemd.unit(5), systemd.service(5)): the command line split on spaces outside
    # quotes, after its specifiers and variables; the description after its specifiers.
    words = shlex.split(as_systemd_reads(setting(units[service], "ExecStart"), "%$"))
    assert as_systemd_reads(setting(units[service], "Description"), "%") == f"Publish the briefings in {workspace}"
    assert words[1:] == ["-C", str(workspace.resolve()), "publish", "-q"]
    assert Path(words[0]).is_file() and Path(words[0]).name == "briefings"
    folder = tmp_path / "units"
    folder.mkdir()
    for name, text in units.items():
        (folder / name).write_text(text)
    if not SYSTEMD_ANALYZE:
        pytest.skip("systemd-analyze is not installed (Debian package systemd): the units were not verified")
    verified = subprocess.run(
        [SYSTEMD_ANALYZE, "verify", str(folder / service), str(folder / timer)], capture_output=True, text=True
    )
    assert verified.returncode == 0 and verified.stderr == "", verified.stderr


def test_install_writes_the_user_units_where_systemd_finds_them(tmp_path: Path) -> None:
    workspace = copy_example(tmp_path / "show")
    printed = units_printed(run(workspace, "schedule", "--every", "10m").stdout)
    config = tmp_path / "config"
    result = run(workspace, "schedule", "--every", "10m", "--install", env={"XDG_CONFIG_HOME": str(config)})
    assert result.exit_code == 0, result.output
    folder = config / "systemd" / "user"
    assert {path.name: path.read_text() for path in folder.iterdir()} == printed
    timer = next(name for name in printed if name.endswith(".timer"))
    assert result.stdout.splitlines() == [
        *sorted(f"Wrote {folder / name}" for name in printed),
        f"Start it: systemctl --user daemon-reload && systemctl --user enable --now {timer}",
        "Keep it running while you are logged out: loginctl enable-linger",
    ]
    # A relative XDG_CONFIG_HOME is invalid (XDG Base Directory Specification): ~/.config is used instead.
    home = tmp_path / "home"
    result = run(workspace, "schedule", "--install", env={"XDG_CONFIG_HOME": "relative", "HOME": str(home)})
    assert result.exit_code == 0, result.output
    assert len(list((home / ".config" / "systemd" / "user").iterdir())) == 2
    # A crontab line is added with crontab -e; --install is for systemd only.
    result = run(workspace, "schedule", "--cron", "--install")
    assert result.exit_code == 2 and "--install writes systemd units" in result.stderr


def test_crontab_line_runs_a_silent_publish_through_the_shell(published: Path, tmp_path: Path) -> None:
    workspace = tmp_path / AWKWARD
    shutil.copytree(published, workspace, symlinks=True)
    result = run(workspace, "schedule", "--cron")
    assert result.exit_code == 0, result.output
    [line] = result.stdout.splitlines()
    fields = line.split(" ", 5)
    assert fields[:5] == ["*/5", "*", "*", "*", "*"]
    # crontab(5): an unescaped % would end the command; cron unescapes \% and runs the rest with /bin/sh.
    command = fields[5]
    assert re.search(r"(?<!\\)%", command) is None
    assert shlex.split(command.replace("\\%", "%"))[-4:] == ["-C", str(workspace.resolve()), "publish", "-q"]
    # As cron runs it: with sh, and a nearly empty environment (no PATH to this virtual environment).
    ran = subprocess.run(
        ["/bin/sh", "-c", command.replace("\\%", "%")],
        capture_output=True, text=True, env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}, timeout=300,
    )  # fmt: skip
    assert (ran.returncode, ran.stdout, ran.stderr) == (0, "", "")  # nothing changed: nothing printed


def test_a_workspace_without_show_toml_is_refused(tmp_path: Path) -> None:
    result = run(tmp_path, "schedule")
    assert result.exit_code == 1
    assert result.stderr.startswith(f"Error: {tmp_path}/show.toml: no show.toml here")
