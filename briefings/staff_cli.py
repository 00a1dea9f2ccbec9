"""`briefings staff`: the subscribers to the private feeds of staff-only briefings (thin commands over
briefings.staff; `briefings.cli` adds the group to `main`)."""

from __future__ import annotations

import json
import sys

import click

from briefings.destination import Destination
from briefings.errors import printable
from briefings.staff import add, feed_address, revoke, rotate, subscribers
from briefings.storage import Storage
from briefings.terminal import BriefingsGroup, Display, Options, destination_options, global_options, json_option
from briefings.workspace import Workspace


def _opened(options: Options, destination: Destination) -> tuple[Workspace, Storage]:
    space = Workspace(options.workspace, reporter=Display(sys.stderr, quiet=options.quiet, verbose=options.verbose))
    return space, space.open(destination).storage


@click.group(cls=BriefingsGroup, params=global_options(after_command=True))
def staff() -> None:
    """Manage who hears staff-only briefings (`audience: staff`).

    Each subscriber gets their own private feed address, which `briefings publish` keeps up to date
    with every public briefing and every staff-only one; `staff revoke` deletes it at once.

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
    """Add a subscriber and print their private feed address (the last line).

    Send them the address privately: anyone holding it can listen until it is revoked. Their feed is
    written by the next `briefings publish`.

    Example:

        briefings staff add "Sam Patel" --email sam.patel@westmarsh.gov.uk
    """
    space, storage = _opened(options, destination)
    subscriber, token = add(storage, name, email, expires, space.now())
    click.echo(f"Added {printable(subscriber.name)}; their feed is written by the next `briefings publish`.")
    click.echo(feed_address(space.show.url, token))


@staff.command(name="list")
@destination_options(acl=False)
@json_option
@click.pass_obj
def list_command(options: Options, destination: Destination, as_json: bool) -> None:
    """List the subscribers (never their addresses).

    Example:

        briefings staff list --json
    """
    space, storage = _opened(options, destination)
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
@destination_options(acl=False)
@click.pass_obj
def revoke_command(options: Options, destination: Destination, name: str, rotate_media: bool) -> None:
    """Revoke a subscriber: their private feed is deleted now.

    With --rotate-media, a publish then moves the staff-only files to new addresses and rewrites the
    other subscribers' feeds, so the files' old addresses (which a lost phone's app knows) stop answering.
    A CDN in front of the bucket may serve its copies until they expire (see README, "Staff-only briefings").

    Example:

        briefings staff revoke "Sam Patel" --rotate-media
    """
    space, storage = _opened(options, destination)
    subscriber = revoke(storage, name, rotate_media)
    click.echo(f"Revoked {printable(subscriber.name)}: their private feed is deleted.")
    if rotate_media:
        done = space.publish(destination)
        click.echo(
            f"Moved the staff-only files to new addresses: {done.summary['private_written']} private file(s) "
            f"written, {done.summary['private_deleted']} deleted."
        )


@staff.command(name="rotate")
@click.argument("name")
@destination_options(acl=False)
@click.pass_obj
def rotate_command(options: Options, destination: Destination, name: str) -> None:
    """Give a subscriber a new address (the last line); the old one stops answering now.

    Their feed at the new address is written by the next `briefings publish`.

    Example:

        briefings staff rotate "Sam Patel"
    """
    space, storage = _opened(options, destination)
    subscriber, token = rotate(storage, name)
    click.echo(f"New address for {printable(subscriber.name)}; the old one is deleted.")
    click.echo(feed_address(space.show.url, token))
