"""`briefings invite`, `briefings inbox` and `briefings setup-bucket`: authors submitting from a browser (thin
commands over briefings.invitation and briefings.inbox; `briefings.cli` adds them to `main`)."""

from __future__ import annotations

import json
import sys

import click

from briefings.destination import Destination, temporary_credentials
from briefings.errors import UsageError, printable
from briefings.inbox import Puller, pull, report, uploads
from briefings.invitation import (
    DEFAULT_EXPIRY,
    DEFAULT_MAX_MB,
    apply_bucket_rules,
    bucket_rules,
    invite,
    link,
    read_invitations,
    revoke,
)
from briefings.runner import Runner
from briefings.staff_cli import opened
from briefings.submit_form import upload_urls
from briefings.terminal import (
    BriefingsCommand,
    BriefingsGroup,
    Options,
    destination_options,
    global_options,
    json_option,
)


@click.command(name="invite", cls=BriefingsCommand)
@click.argument("slug", required=False)
@click.option("--expires", default=DEFAULT_EXPIRY, show_default=True, help="How long the link works: 7d at most.")
@click.option("--max-mb", type=int, default=DEFAULT_MAX_MB, show_default=True, help="Largest recording accepted.")
@click.option("--partnership", help="The safeguarding partnership, shown read-only on the page.")
@click.option("--review-region", help="The review's region, shown read-only on the page.")
@click.option("--published", metavar="DATETIME", help="Publication date and time (the embargo), read-only.")
@click.option("--review-type", help="The review type, read-only on the page.")
@click.option("--list", "listing", is_flag=True, help="List the invitations made so far instead.")
@click.option("--revoke", "revoking", is_flag=True, help="Revoke SLUG's invitations: uploads under them are ignored.")
@destination_options(acl=False)
@json_option
@click.pass_obj
def invite_command(
    options: Options,
    destination: Destination,
    slug: str | None,
    expires: str,
    max_mb: int,
    partnership: str | None,
    review_region: str | None,
    published: str | None,
    review_type: str | None,
    listing: bool,
    revoking: bool,
    as_json: bool,
) -> None:
    """Invite an author to submit a briefing from a browser.

    Prints the link for briefing SLUG (the last line). The link opens the submission page of the
    published site (`submit/`): the author fills in the briefing, records or picks a file, and uploads
    it into the bucket's inbox, beside the show's prefix. Send the link privately: whoever holds it can
    upload until it expires. Then run `briefings inbox pull`. Needs show.toml's [publish] `to` to be
    the bucket (the page uploads only there), a store that accepts POST policies (AWS S3, MinIO) and,
    once, `briefings setup-bucket --apply`.

    Example:

        briefings invite child-d --expires 3d --review-type SCR
    """
    space, storage = opened(options, destination)
    if listing:
        now = space.now()
        found = [
            invitation.record() | {"status": invitation.status(now)}
            for invitation in read_invitations(storage).values()
        ]
        found.sort(key=lambda item: (item["created"], item["slug"]))
        if as_json:
            click.echo(json.dumps(found, indent=2))
            return
        for item in found:
            click.echo(f"{item['slug']}  {item['status']}  created {item['created']}  expires {item['expires']}")
        if not found:
            click.echo("No invitations yet: make one with `briefings invite SLUG`.")
        return
    if slug is None:
        raise UsageError("SLUG: missing (fix: give the new briefing's folder name, e.g. `briefings invite child-d`)")
    if revoking:
        revoked = revoke(storage, slug)
        click.echo(f"Revoked {len(revoked)} invitation(s) for {slug}: `briefings inbox pull` ignores their uploads.")
        return
    fixed = {
        "review.partnership": partnership,
        "review.region": review_region,
        "review.published": published,
        "review.type": review_type,
    }
    invitation, payload = invite(storage, slug, space.now(), upload_urls(space.show), expires, max_mb, fixed)
    address = link(space.show.url, payload)
    if temporary_credentials(space.show.publish, destination, space.env):
        click.echo(
            "warning: signed with temporary credentials (a session, SSO or an assumed role): the link stops "
            "working when they expire, however long --expires is (fix: sign with a dedicated IAM user's keys, "
            'see README, "For producers: invitations")',
            err=True,
        )
    if as_json:
        click.echo(json.dumps({"url": address, "slug": slug, "expires": invitation.expires}, indent=2))
        return
    click.echo(f"Invitation for {slug}, until {invitation.expires}; send this link to the author privately:")
    click.echo(address)


@click.command(name="setup-bucket", cls=BriefingsCommand)
@click.option("--apply", "applying", is_flag=True, help="Set the rules on the bucket (default: only print them).")
@destination_options(acl=False)
@click.pass_obj
def setup_bucket_command(options: Options, destination: Destination, applying: bool) -> None:
    """Show, or set, the bucket rules browser submissions need.

    Prints them; --apply sets them. A CORS rule that lets the site's origin (base_url) POST to the
    bucket and nothing more, and a lifecycle rule that deletes uploads left in the inbox for 30 days.
    Rules of others are kept.

    Example:

        briefings setup-bucket --to s3://my-bucket/briefings --apply
    """
    space, storage = opened(options, destination)
    rules = bucket_rules(storage, space.show.url)
    click.echo(json.dumps(rules, indent=2))
    if applying:
        apply_bucket_rules(storage, space.show.url)
        click.echo(f"Set the CORS and lifecycle rules on s3://{printable(rules['bucket'])}.")
    else:
        click.echo("Nothing changed: run again with --apply to set these rules.")


INBOX_DESTINATION = "briefings.inbox.destination"


@click.group(name="inbox", cls=BriefingsGroup, invoke_without_command=True, params=global_options(after_command=True))
@destination_options(acl=False)
@json_option
@click.pass_context
def inbox_group(ctx: click.Context, destination: Destination, as_json: bool) -> None:
    """List what authors have uploaded through their invitations.

    One line per upload: slug, time, size, and whether it is complete (the page uploads the recording,
    then the briefing). `briefings inbox pull` brings complete ones into episodes/.

    Example:

        briefings inbox --json
    """
    if ctx.invoked_subcommand is not None:
        # `briefings inbox --to X pull`: the destination given before `pull` is pull's, unless it gives its own.
        ctx.meta[INBOX_DESTINATION] = destination
        return
    space, storage = opened(ctx.obj, destination)
    now = space.now()
    found = [upload.to_dict(now) for upload in uploads(storage)]
    if as_json:
        click.echo(json.dumps(found, indent=2))
        return
    for item in found:
        state = "complete" if item["complete"] else "incomplete"
        state += "" if item["invitation_status"] != "revoked" else ", invitation revoked: ignored"
        click.echo(f"{item['slug']}  {item['time']}  {item['size'] / 1e6:.1f} MB  {state}")
    if not found:
        click.echo("The inbox is empty.")


@inbox_group.command(name="pull")
@click.argument("slugs", nargs=-1)
@click.option("--force", is_flag=True, help="Replace an existing episodes/SLUG/ (it is kept in .briefings/replaced/).")
@destination_options(acl=False)
@json_option
@click.pass_obj
def pull_command(
    options: Options, destination: Destination, slugs: tuple[str, ...], force: bool, as_json: bool
) -> None:
    """Bring complete uploads into episodes/SLUG/ and check them as `briefings check` does.

    Each upload is treated as untrusted: the briefing is read with the same model as briefing.yaml,
    the recording decoded by ffmpeg whatever its name or type. It writes episodes/SLUG/ (briefing.yaml
    with the author's text and the recording), prints check's report, and removes the upload from the
    inbox. Uploads under revoked invitations are ignored. Exits 1 if any briefing has errors to fix.

    Example:

        briefings inbox pull child-d
    """
    if destination == Destination():
        destination = click.get_current_context().meta.get(INBOX_DESTINATION, destination)
    space, storage = opened(options, destination)
    puller = Puller(space.path, space.show, storage, Runner(), space.analysis_cache, space.now())
    pulled = pull(puller, slugs, force)
    failed = any(item.submission is None or not item.submission.valid for item in pulled)
    if as_json:
        click.echo(json.dumps([item.to_dict() for item in pulled], indent=2))
    else:
        for item in pulled:
            for line in report(item):
                click.echo(str(line))
        if not pulled:
            click.echo("Nothing to pull: no complete upload in the inbox (see `briefings inbox`).")
    if failed:
        sys.exit(1)
