"""`briefings staff`: the subscribers to the private feeds of staff-only briefings (thin commands over
briefings.staff; `briefings.cli` adds the group to `main`)."""

from __future__ import annotations

import json
import sys

import click

from briefings.destination import Destination
from briefings.errors import printable
from briefings.release import invalidation_line
from briefings.staff import Changed, add, archive_address, feed_address, revoke, rotate, subscribers
from briefings.storage import Storage
from briefings.terminal import (
    BriefingsGroup,
    Display,
    Options,
    cdn_option,
    destination_options,
    global_options,
    json_option,
)
from briefings.workspace import Workspace


def opened(options: Options, destination: Destination) -> tuple[Workspace, Storage]:
    """The workspace the options name, and the destination opened from it (for the commands that manage a
    destination's private side: staff, invitations and the inbox)."""
    space = Workspace(options.workspace, reporter=Display(sys.stderr, quiet=options.quiet, verbose=options.verbose))
    return space, space.open(destination).storage


def _addresses(space: Workspace, token: str) -> None:
    """Print a subscriber's archive, then their feed address (the last line, for scripts)."""
    click.echo(f"Private archive (a web page): {archive_address(space.show.url, token)}")
    click.echo(feed_address(space.show.url, token))


def _drop(space: Workspace, destination: Destination, distribution: str | None, changed: Changed) -> None:
    """Have the CDN, if one is named, drop its copies of the deleted feed and archive (they hold a token, so
    only their count is printed)."""
    if distribution and changed.deleted:
        click.echo(invalidation_line(space.invalidate_cdn(destination, distribution, changed.deleted)))


@click.group(cls=BriefingsGroup, params=global_options(after_command=True))
def staff() -> None:
    """Manage who hears staff-only briefings (`audience: staff`).

    Each subscriber gets their own private feed and archive (a web page with search), which `briefings
    publish` keeps up to date with every public briefing and every staff-only one; `staff revoke`
    deletes both at once.

    Example:

        briefings staff add "Sam Patel" --expires 2027-03-31
    """


@staff.command(name="add")
@click.argument("name")
@click.option("--email", metavar="ADDRESS", help="Their email address, for your records (nothing is sent).")
@click.option(
    "--expires", metavar="DATE", help="Their feed is deleted by the first publish after this day (YYYY-MM-DD)."
)
@destination_options(acl=False)
@click.pass_obj
def add_command(options: Options, destination: Destination, name: str, email: str | None, expires: str | None) -> None:
    """Add a subscriber and print their private archive's and feed's addresses (the feed's last).

    Send them the addresses privately: anyone holding one can listen and read until it is revoked. Their
    feed and archive are written by the next `briefings publish`.

    Example:

        briefings staff add "Sam Patel" --email sam.patel@westmarsh.gov.uk
    """
    space, storage = opened(options, destination)
    subscriber, token = add(storage, name, email, expires, space.now())
    click.echo(
        f"Added {printable(subscriber.name)}; their feed and archive are written by the next `briefings publish`."
    )
    _addresses(space, token)


@staff.command(name="list")
@destination_options(acl=False)
@json_option
@click.pass_obj
def list_command(options: Options, destination: Destination, as_json: bool) -> None:
    """List the subscribers (never their addresses).

    Example:

        briefings staff list --json
    """
    space, storage = opened(options, destination)
    today = space.now().date()
    found = [subscriber.to_dict(today) for subscriber in subscribers(storage)]
    if as_json:
        click.echo(json.dumps(found, indent=2))
        return
    for item in found:
        extra = [f"<{item['email']}>"] if item["email"] else []
        extra += [f"expires {item['expires']}"] if item["expires"] else []
        click.echo(printable(f"{item['name']}  {item['status']}  since {item['created']}  {'  '.join(extra)}".rstrip()))
    if not found:
        click.echo("No subscribers yet: add one with `briefings staff add NAME`.")


@staff.command(name="revoke")
@click.argument("name")
@click.option(
    "--rotate-media", is_flag=True, help="Also move every staff-only file to new addresses now (a lost phone)."
)
@cdn_option
@destination_options(acl=False)
@click.pass_obj
def revoke_command(
    options: Options, destination: Destination, name: str, rotate_media: bool, distribution: str | None
) -> None:
    """Revoke a subscriber: their private feed and archive are deleted now.

    With --rotate-media, a publish then moves the staff-only files to new addresses and rewrites the
    other subscribers' feeds, so the files' old addresses (which a lost phone's app knows) stop answering.
    A CDN in front of the bucket serves its copies until they expire, unless --invalidate-cdn names it
    (see README, "Staff-only briefings").

    Example:

        briefings staff revoke "Sam Patel" --rotate-media
    """
    space, storage = opened(options, destination)
    changed = revoke(storage, name, rotate_media)
    click.echo(f"Revoked {printable(changed.subscriber.name)}: their private feed and archive are deleted.")
    _drop(space, destination, distribution, changed)
    if rotate_media:
        done = space.publish(destination, invalidate_cdn=distribution)
        click.echo(
            f"Moved the staff-only files to new addresses: {done.summary['private_written']} private file(s) "
            f"written, {done.summary['private_deleted']} deleted."
        )


@staff.command(name="rotate")
@click.argument("name")
@cdn_option
@destination_options(acl=False)
@click.pass_obj
def rotate_command(options: Options, destination: Destination, name: str, distribution: str | None) -> None:
    """Give a subscriber new addresses (the feed's last); the old ones stop answering now.

    Their feed and archive at the new address are written by the next `briefings publish`.

    Example:

        briefings staff rotate "Sam Patel"
    """
    space, storage = opened(options, destination)
    changed = rotate(storage, name)
    assert changed.token is not None
    click.echo(f"New addresses for {printable(changed.subscriber.name)}; the old ones are deleted.")
    _drop(space, destination, distribution, changed)
    _addresses(space, changed.token)
