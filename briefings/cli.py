"""The `briefings` command line: parse options, call the library, print, and translate errors."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from briefings import __version__, audio, convert, scaffold, schedule
from briefings.config import SHOW_FILE, load_show
from briefings.destination import Destination
from briefings.errors import BriefingsError, Severity, UsageError, printable
from briefings.harvest import SourceResult
from briefings.invite_cli import inbox_group, invite_command, setup_bucket_command
from briefings.layout import FEED_KEY
from briefings.release import Release, build_summary, counted, refused
from briefings.runner import stop_on_sigterm
from briefings.serve import preview
from briefings.staff_cli import staff
from briefings.submission import BRIEFING_FILE
from briefings.terminal import (
    BriefingsGroup,
    Display,
    Options,
    cdn_option,
    destination_options,
    global_options,
    jobs_option,
    json_option,
    log_level,
    print_error,
    relative,
    shown,
)
from briefings.timecode import clock
from briefings.workspace import Workspace, rehearsal_time


def reporter(options: Options, hold: bool = False) -> Display:
    """Progress and problems on stderr: a live bar on a terminal, a line per event in logs; --quiet keeps
    only the problems, which `hold` keeps back until the caller knows whether to show them."""
    return Display(sys.stderr, quiet=options.quiet, verbose=options.verbose, hold=hold)


def open_workspace(options: Options, rehearsal: bool = False, display: Display | None = None) -> Workspace:
    """The workspace the command works on, reporting to stderr (or `display`), at the real time or (for a
    rehearsal) the BRIEFINGS_NOW one."""
    return Workspace(
        options.workspace, now=rehearsal_time(os.environ, rehearsal), reporter=display or reporter(options)
    )


@click.group(
    cls=BriefingsGroup,
    params=global_options(after_command=False),
    context_settings={"help_option_names": ["-h", "--help"]},
    commands=[staff, invite_command, inbox_group, setup_bucket_command],  # briefings.staff_cli, briefings.invite_cli
)
@click.version_option(__version__, prog_name="briefings")
@click.pass_context
def main(ctx: click.Context, workspace: Path, verbose: bool, quiet: bool) -> None:
    """Turn case-review briefings into a podcast feed and archive.

    A workspace holds show.toml and episodes/<slug>/ folders, one per briefing.
    The global options -C, -v and -q go before or after the command: `briefings -q publish`
    and `briefings publish -q` are the same.

    Example:

        briefings publish && briefings serve
    """
    stop_on_sigterm()
    log_level(verbose)
    ctx.obj = Options(workspace=relative(workspace), verbose=verbose, quiet=quiet)


@main.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--title", default="Safeguarding Practice Briefings", show_default=True, help="The show's title.")
def init(directory: Path, title: str) -> None:
    """Create a new workspace.

    Writes DIRECTORY/show.toml (commented), a placeholder artwork.jpg and episodes/.

    Example:

        briefings init westmarsh-briefings --title "Westmarsh Practice Briefings"
    """
    scaffold.init_workspace(directory, title)
    click.echo(f"Created {shown(directory)}/ with show.toml, artwork.jpg and episodes/.")
    click.echo(f"Next: edit {shown(directory / SHOW_FILE)}, replace artwork.jpg, and add a briefing under episodes/.")


def print_json(document: Any) -> None:
    click.echo(json.dumps(document, indent=2))


@main.command(name="build")
@jobs_option
@json_option
@click.pass_obj
def build_command(options: Options, jobs: int | None, as_json: bool) -> None:
    """Process ready briefings into a staged build.

    Publishes nothing.
    Use it to check that every recording encodes; `briefings publish` builds too.

    Example:

        briefings build --jobs 2
    """
    space = open_workspace(options)
    result = space.build(jobs)
    summary = build_summary(result)
    if as_json:
        print_json(summary)
    else:
        click.echo(f"Built {counted(summary)}, {result.encoded} encoded now, in {shown(space.staging)}/")
    if refused(result):
        sys.exit(1)


@main.command(name="audio")
@click.argument(
    "sources", metavar="INPUT...", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option(
    "-o",
    "--output",
    "output_name",
    metavar="OUTPUT",
    required=True,
    help="The file to write (.mp3 for MP3, .m4a for AAC), or a folder (DIR/) to write each input's output into.",
)
@click.option("-f", "--force", is_flag=True, help="Replace outputs that already exist.")
@click.option("--target-lufs", type=float, help="Integrated loudness to reach (default: show.toml, else -16).")
@click.option("--true-peak", type=float, help="True-peak ceiling in dBTP (default: show.toml, else -1).")
@click.option("--bitrate", type=int, help="Bit rate in kbps (default: show.toml, else 96).")
@click.option("--channels", type=click.Choice(["1", "2"]), help="1 downmixes to mono (the default), 2 keeps stereo.")
@click.option("--trim/--no-trim", "trim", default=None, help="Cut leading and trailing silence (default: on).")
@click.option("--no-stings", is_flag=True, help="Leave out the intro and outro named in show.toml.")
@json_option
@click.pass_obj
def audio_command(
    options: Options,
    sources: tuple[Path, ...],
    output_name: str,
    force: bool,
    target_lufs: float | None,
    true_peak: float | None,
    bitrate: int | None,
    channels: str | None,
    trim: bool | None,
    no_stings: bool,
    as_json: bool,
) -> None:
    """Normalise recordings to MP3 (or, named .m4a, AAC).

    Prints each one's loudness and true peak before and after.
    Uses the [audio] settings of the workspace's show.toml when there is one. With -o DIR/ (or
    several inputs), each output is written into DIR, named after its input, in the show's format
    (MP3 unless show.toml says aac). An existing output is kept unless -f is given. The inputs are
    never changed; each output appears only once it is complete and verified.

    Example:

        briefings audio interview.m4a -o interview.mp3 --target-lufs -16

        briefings audio a.wav b.m4a -o normalised/
    """
    overrides = {
        "format": convert.output_format(sources, output_name),
        "target_lufs": target_lufs,
        "true_peak": true_peak,
        "bitrate": bitrate,
        "channels": None if channels is None else int(channels),
        "trim_silence": trim,
    }
    settings, stings = convert.audio_settings(options.workspace, overrides)
    if no_stings:
        stings = audio.NO_STINGS
    targets = convert.targets(sources, output_name, settings, force)
    summaries: list[dict[str, Any]] = []
    failed = False
    for source, target in zip(sources, targets, strict=True):
        try:
            done = convert.normalise(source, target, settings, stings, reporter(options))
        except BriefingsError as error:
            if len(sources) == 1:
                raise
            print_error(error)  # one input that cannot be encoded does not stop the others
            failed = True
            continue
        for warning in done.encoded.warnings:
            click.echo(str(warning), err=True)
        if not as_json:
            click.echo("\n".join(done.lines()))
        summaries.append(done.to_dict())
    if as_json:
        print_json(summaries[0] if len(sources) == 1 else summaries)
    if failed:
        sys.exit(1)


def released(options: Options, run: Callable[[Workspace], Release], dry_run: bool) -> Release:
    """Publish (or withdraw) with `run`, printing problems and warnings on stderr.

    With --quiet, problems wait until it is known whether anything changed: a run from cron that changed
    nothing prints nothing, not the same warnings every few minutes. Errors always print.
    """
    display = reporter(options, hold=options.quiet and not dry_run)
    try:
        done = run(open_workspace(options, rehearsal=dry_run, display=display))
    except BaseException:
        display.release_held()
        raise
    if not done.unchanged:
        display.release_held()
    if done.skipped and not options.quiet:
        for problem in done.summary.get("problems", []):
            click.echo(printable(problem), err=True)  # warnings from the last publish still apply
    if done.warning and not (options.quiet and done.unchanged):
        click.echo(f"Warning: {printable(done.warning)}", err=True)
    return done


def exit_if_refused(done: Release) -> None:
    if done.refused:
        click.echo("Some briefings were refused; fix the errors above and publish again.", err=True)
        sys.exit(1)


@main.command()
@destination_options(acl=True)
@cdn_option
@click.option(
    "--dry-run", is_flag=True, help="Print the plan (upload, replace, delete, unchanged, embargoed); write nothing."
)
@jobs_option
@json_option
@click.pass_obj
def publish(
    options: Options, destination: Destination, distribution: str | None, dry_run: bool, jobs: int | None, as_json: bool
) -> None:
    """Build, then publish only what changed.

    Writes audio, then pages, then the feeds.
    DEST is a folder or s3://BUCKET/PREFIX (credentials from the AWS environment, ~/.aws or an
    instance role). Only what changed is written. Briefings with errors are refused (and listed); the
    rest are published. Briefings whose `published` time is still ahead stay embargoed: nothing about
    them is written.

    Example:

        briefings publish --to s3://westmarsh-briefings/podcast --dry-run
    """
    done = released(options, lambda space: space.publish(destination, dry_run, jobs, distribution), dry_run)
    summary = done.summary
    if options.quiet and done.unchanged and not as_json:
        return  # a run from cron with --quiet that changed nothing prints nothing at all
    if as_json:
        print_json(summary)
    else:
        click.echo("\n".join(done.lines()))
        if destination.to is None and "://" not in load_show(options.workspace).publish.to:
            click.echo("Preview it: briefings serve")
    exit_if_refused(done)


@main.command()
@click.argument("slugs", nargs=-1, metavar="[SLUG]...")
@jobs_option
@json_option
@click.pass_obj
def check(options: Options, slugs: tuple[str, ...], jobs: int | None, as_json: bool) -> None:
    """Check briefings and say exactly what to fix.

    Checks every briefing, or the SLUGs given.
    Checks the metadata in briefing.yaml, the recording (readable, long enough, level,
    clipping, silences), chapters and transcript. Exits 1 if there is any error;
    warnings are advice and do not fail.

    Example:

        briefings check child-a
    """
    # The same checks as publish, in the same code: the show's settings, artwork and stings, then each briefing.
    checked = open_workspace(options).check(slugs, jobs)
    problems = [problem for submission in checked for problem in submission.problems]
    errors = sum(problem.severity is Severity.ERROR for problem in problems)
    if as_json:
        print_json([submission.to_dict() for submission in checked])
    else:
        for submission in checked:
            if not submission.problems:
                click.echo(f"{shown(submission.folder)}: ready")
            for problem in submission.problems:
                click.echo(str(problem))
        click.echo(f"Checked {len(checked)} briefing(s): {errors} error(s), {len(problems) - errors} warning(s).")
    if errors:
        sys.exit(1)


@main.command()
@click.argument("feed", required=False)
@json_option
@click.pass_obj
def validate(options: Options, feed: str | None, as_json: bool) -> None:
    """Check feeds as podcast directories do.

    Checks them the way Apple Podcasts, Spotify and Podcast Index do; exits 1 if any has errors.
    FEED is a feed's URL or file. URLs in a feed are checked over the network (HEAD for audio and
    artwork, GET for chapters and transcripts), except for a feed in the workspace's publish folder,
    whose URLs are answered from that folder. Without FEED, every feed in the publish folder is
    checked. For the workspace's own feeds, every GUID is compared with the publish manifest.

    Example:

        briefings validate https://briefings.example.org/feed.xml
    """
    reports = open_workspace(options).validate(feed)
    for report in reports:
        for problem in report.problems:
            click.echo(str(problem), err=True)
    errors = sum(report.errors for report in reports)
    warnings = sum(len(report.problems) for report in reports) - errors
    if as_json:
        print_json({"valid": errors == 0, "feeds": [report.to_dict() for report in reports]})
    else:
        verdict = "valid" if not errors else "invalid"
        click.echo(
            f"{len(reports)} feed(s) {verdict}: {sum(report.items for report in reports)} item(s), "
            f"{errors} error(s), {warnings} warning(s)."
        )
    if errors:
        sys.exit(1)


@main.command()
@click.argument("slug")
@click.option(
    "--recording",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The author's recording (copied; the original is left as it is).",
)
@click.pass_obj
def new(options: Options, slug: str, recording: Path) -> None:
    """Start a briefing from a recording.

    Creates episodes/SLUG/ with a copy of the recording and a briefing.yaml to fill in.
    The briefing.yaml is commented, notes the recording's length and suggests chapters at
    its longest pauses.

    Example:

        briefings new child-d --recording ~/Recordings/child-d-briefing.m4a
    """
    made = scaffold.new_briefing(options.workspace, slug, recording)
    click.echo(f"Created {shown(made.folder)}/ with {made.recording} ({clock(made.duration)}) and {BRIEFING_FILE}.")
    click.echo(f"Next: fill in {shown(made.folder / BRIEFING_FILE)}, then run `briefings check {slug}`.")


@main.command()
@click.argument("slug")
@click.option("--force", is_flag=True, help="Replace an existing transcript.vtt.")
@click.pass_obj
def transcribe(options: Options, slug: str, force: bool) -> None:
    """Draft a transcript for the author to correct.

    Recognises the speech in the briefing's recording, offline.
    Needs the optional extra: pip install -e '.[transcribe]'. Writes
    episodes/SLUG/transcript.vtt marked as a draft; `briefings check` warns until the
    author has corrected it and deleted the draft note.

    Example:

        briefings transcribe child-a
    """
    made = scaffold.draft_transcript(options.workspace, slug, force, reporter(options))
    click.echo(f"Wrote a draft transcript to {shown(made.path)} ({made.cues} cues).")
    click.echo("Next: correct it against the recording and delete its `NOTE DRAFT` paragraph.")


@main.command()
@click.argument("slug")
@click.option("--undo", is_flag=True, help="Lift a withdrawal: the briefing is published again, with its old GUID.")
@destination_options(acl=True)
@cdn_option
@click.option("--dry-run", is_flag=True, help="Print what would be removed; write nothing.")
@json_option
@click.pass_obj
def withdraw(
    options: Options,
    slug: str,
    undo: bool,
    destination: Destination,
    distribution: str | None,
    dry_run: bool,
    as_json: bool,
) -> None:
    """Take a published briefing down everywhere.

    Feeds and pages first, then its audio and files.
    The withdrawal is recorded in the destination's manifest, so later publishes leave the briefing out
    even while its folder stays in episodes/; `--undo` publishes it again. The rest of the workspace is
    published as it is. Behind CloudFront, `--invalidate-cdn ID` has the CDN drop its year-long copies of
    the audio too: without it, the CDN keeps serving them.

    Example:

        briefings withdraw child-a --to s3://westmarsh-briefings/podcast
    """

    done = released(options, lambda space: space.withdraw(slug, undo, destination, dry_run, distribution), dry_run)
    summary, where = done.summary, done.summary["destination"]
    if as_json:
        print_json(summary)
    else:
        for line in done.plan():
            click.echo(line)
        if undo:
            verb = "Would restore" if dry_run else "Restored"
            click.echo(f"{verb} {slug} at {where}: {len(summary['written'])} file(s) written.")
        else:
            verb = "Would withdraw" if dry_run else "Withdrew"
            click.echo(
                f"{verb} {slug} from {where}: feed and pages rewritten, {len(summary['deleted'])} file(s) deleted. "
                f"To publish it again: briefings withdraw --undo {slug}"
            )
        for line in done.invalidation():
            click.echo(line)
    exit_if_refused(done)


@main.command()
@destination_options(acl=False)
@click.option("--check", "alarm", is_flag=True, help="Exit 1 if a briefing is past its release time and not published.")
@json_option
@click.pass_obj
def status(options: Options, destination: Destination, alarm: bool, as_json: bool) -> None:
    """Show each briefing's state at the destination.

    And the address to subscribe to.
    States: draft (ready, past its release time, not yet published), invalid, embargoed until a
    time, published, changed since publish, withdrawn. --check exits 1 if any is a draft: for
    monitoring that the schedule runs.

    Example:

        briefings status --to s3://westmarsh-briefings/podcast
    """
    found = open_workspace(options, rehearsal=True).status(destination)
    if as_json:
        print_json(found.to_dict())
    else:
        click.echo("\n".join(found.lines()))
    if alarm and found.due:
        sys.exit(1)


@main.command()
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on; 0.0.0.0 lets a phone on the same network subscribe.",
)
@click.option(
    "--port",
    "-p",
    default=8000,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="Port to listen on (0 picks a free one).",
)
@click.option(
    "--dir",
    "folder",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder to serve (default: the publish folder).",
)
@click.option(
    "--public-url",
    metavar="URL",
    help="The address listeners reach this server at, if not the one it listens on (e.g. behind a proxy).",
)
@click.pass_obj
def serve(options: Options, host: str, port: int, folder: Path | None, public_url: str | None) -> None:
    """Preview the published folder over HTTP.

    For a browser or a podcast app.
    The feed is served with this server's address (or --public-url) in its links, so apps play from it.

    Example:

        briefings serve --host 0.0.0.0 --port 8000
    """
    server = preview(options.workspace, host, port, folder, public_url)
    click.echo(f"Serving {shown(server.root)}/ at {server.listening}")
    click.echo(f"Subscribe in a podcast app to: {server.served_base}{FEED_KEY}")
    click.echo("Press Ctrl+C to stop.")
    sys.stdout.flush()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


@main.command()
@click.option("--test", "trial", is_flag=True, required=True, help="Send a test email.")
@click.option("--to", "recipients", multiple=True, metavar="ADDRESS", help="Send it here (default: [notify.email] to).")
@click.pass_obj
def notify(options: Options, trial: bool, recipients: tuple[str, ...]) -> None:
    """Check that announcements by email get through.

    Sends a test message through the server in show.toml's [notify.email] (the login from
    BRIEFINGS_SMTP_USER and BRIEFINGS_SMTP_PASSWORD). `briefings publish` announces each new briefing.

    Example:

        briefings notify --test --to me@example.org
    """
    click.echo(f"Sent a test email to {', '.join(open_workspace(options).send_test_email(recipients))}.")


@main.command(name="harvest")
@click.option("--strict", is_flag=True, help="Exit 1 if any source failed (default: a warning).")
@json_option
@click.pass_obj
def harvest_command(options: Options, strict: bool, as_json: bool) -> None:
    """Gather the shows listed in [harvest] into this one.

    Fetches each source's feed and catalogue (only what changed), keeps it in .briefings/harvest/, and
    prints a line per source: new, changed, withdrawn, unchanged, or failed (its last harvest is kept).
    The next publish lists the harvested briefings beside this show's own.

    Example:

        briefings harvest --strict
    """

    def said(result: SourceResult) -> None:
        for note in result.notes:
            click.echo(f"warning: {note}", err=True)
        if result.error is not None:
            click.echo(result.line(), err=True)
        elif not as_json and not options.quiet:
            click.echo(result.line())

    results = open_workspace(options).harvest(said)
    if as_json:
        print_json({"sources": [result.to_dict() for result in results]})
    if strict and any(result.error for result in results):
        sys.exit(1)


@main.command(name="schedule")
@click.option("--every", default="5m", show_default=True, help="How often: minutes dividing the hour, or hours (1h).")
@click.option("--systemd", "kind", flag_value="systemd", default=True, help="Print systemd user units (the default).")
@click.option("--cron", "kind", flag_value="cron", help="Print a crontab line instead.")
@click.option("--install", is_flag=True, help="Write the systemd user units, then say how to start them.")
@click.pass_obj
def schedule_command(options: Options, every: str, kind: str, install: bool) -> None:
    """Publish every few minutes, so each briefing goes out at its embargo time.

    Runs `briefings -C WORKSPACE publish -q`: silent unless something is published or goes wrong.

    Example:

        briefings schedule --every 5m --install
    """
    if install and kind == "cron":
        raise UsageError(
            "--install writes systemd units (fix: leave out --cron, or add the --cron line with crontab -e)"
        )
    made = schedule.make(options.workspace, every, cron=kind == "cron")
    if made.cron is not None or not install:
        click.echo(
            made.cron or "".join(f"# {name}\n{text}" for name, text in made.units.items()), nl=made.cron is not None
        )
        return
    for path in schedule.install(made.units, schedule.user_unit_folder(os.environ)):
        click.echo(f"Wrote {printable(str(path))}")
    click.echo(f"Start it: systemctl --user daemon-reload && systemctl --user enable --now {made.timer}")
    click.echo("Keep it running while you are logged out: loginctl enable-linger")
