"""Staff-only briefings' private side: subscribers, each with a private feed and archive, and the private state.

A subscriber's address is `p/<token>/feed.xml` under the show's base_url, beside their archive
`p/<token>/index.html`, the token 128 random bits (`secrets.token_urlsafe(16)`): unguessable, so the address
is the credential, and deleting the feed and archive revokes it. The private state keeps only the token's
SHA-256. Static hosting cannot check a token, so the token has to be in the name of the subscriber's
folder at the destination anyway: that folder, made by `staff add` (a page saying their archive comes with
the next publish), is where a publish finds it again, by hashing the folder names a listing gives
(listing the bucket is the producer's right, never the public's: see the README's policy). A reader of
the private state alone learns no address. The state is never under the public prefix: it lives beside
it, in `<PREFIX>-private/` of the same bucket (or the folder `<folder>-private/` next to a published
folder), which the README's bucket policy does not make readable. Every write of it is conditional on the
version read (as the manifest's), and retried on a conflict, so producers adding subscribers at once lose
none.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from email.utils import parseaddr
from enum import Enum
from pathlib import Path, PurePosixPath
from typing import Any, TypeVar

from lxml import etree

from briefings.config import Show
from briefings.episode import Episode
from briefings.errors import BriefingsError, StorageError, UsageError, printable
from briefings.feed import ATOM_NS, ITUNES_NS, PODCAST_NS, render_feed
from briefings.layout import FEEDS, PAGES, Build, cache_control, content_type
from briefings.progress import Reporter
from briefings.search import BUNDLE_DIR, RECORD_DIR, SEARCH_SCRIPT_KEY
from briefings.site import render_private_index
from briefings.storage import LocalStorage, S3Storage, Storage, update_json

STATE_KEY = "staff.json"
# Version 1 also kept each feed's key, which holds the token: read, and forgotten on the next write.
STATE_VERSION = 2
PRIVATE_SUFFIX = "-private"
# Subscribers' feeds and staff-only files, at the public destination under keys no one can guess.
FEEDS_PREFIX = "p/"
MEDIA_PREFIX = "m/"
FEED_NAME = "feed.xml"
# A subscriber's private archive, beside their feed (site.render_private_index), and the way back from
# their folder to the site root, which its relative links take.
ARCHIVE_NAME = "index.html"
# What `staff add` and `staff rotate` put in a new subscriber folder, so the token is at the destination
# (the only place it is kept) before any publish; the publish writes the archive over it.
PLACEHOLDER = b"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex, nofollow">
<meta name="referrer" content="no-referrer">
<title>Your private archive: coming with the next publish</title>
</head>
<body>
<main>
<h1>Your private archive comes with the next publish</h1>
<p>Your feed and this archive are written the next time the show is published. Come back then, or
subscribe to the feed address you were sent: your podcast app finds it once it is there.</p>
</main>
</body>
</html>
"""
SUBSCRIBER_UP = "../../"
# A private key in a message (a storage error names the key it failed on) is shown without its secret part.
SECRET_PART = re.compile(r"\b(p|m)/[A-Za-z0-9_-]{16,}/")
MAX_NAME = 100
T = TypeVar("T")


class Status(Enum):
    """Whether a subscriber's address still answers."""

    ACTIVE = "active"
    REVOKED = "revoked"


@dataclass(frozen=True)
class Subscriber:
    """One person with a private feed address."""

    name: str
    email: str | None
    created: str
    expires: str | None
    status: Status
    token_sha256: str
    # The SHA-256 of each file the last publish wrote in their folder (by name: feed.xml, index.html...).
    published: dict[str, str] = field(default_factory=dict)

    def active(self, today: date) -> bool:
        """True while their feed is published: not revoked, and not past the day it expires."""
        return self.status is Status.ACTIVE and (self.expires is None or date.fromisoformat(self.expires) >= today)

    def record(self) -> dict[str, Any]:
        """As the private state keeps it."""
        return {
            "email": self.email,
            "created": self.created,
            "expires": self.expires,
            "status": self.status.value,
            "token_sha256": self.token_sha256,
            "published": self.published,
        }

    def to_dict(self, today: date) -> dict[str, Any]:
        """As `briefings staff list --json` prints it: never the address."""
        status = self.status.value if self.active(today) or self.status is Status.REVOKED else "expired"
        return {"name": self.name, "email": self.email, "created": self.created, "expires": self.expires,
                "status": status}  # fmt: skip


@dataclass(frozen=True)
class StaffState:
    """The private state: subscribers, the secret staff-only files' keys derive from, the staff-only files
    published (key -> sha256 and size; subscribers' folders are not here) and the staff-only briefings
    published (slug -> record)."""

    secret: str = ""
    subscribers: dict[str, Subscriber] = field(default_factory=dict)
    objects: dict[str, dict[str, Any]] = field(default_factory=dict)
    episodes: dict[str, dict[str, Any]] = field(default_factory=dict)

    def to_bytes(self) -> bytes:
        """The state as JSON."""
        document = {
            "version": STATE_VERSION,
            "secret": self.secret,
            "subscribers": {name: subscriber.record() for name, subscriber in self.subscribers.items()},
            "objects": self.objects,
            "episodes": self.episodes,
        }
        return json.dumps(document, indent=1, sort_keys=True).encode("utf-8")

    def media_folder(self, slug: str) -> str:
        """The folder a staff-only briefing's files are published under: derived from the secret, so stable
        from publish to publish and from workspace to workspace, and from nothing anyone outside can know."""
        digest = hmac.new(bytes.fromhex(self.secret), slug.encode("utf-8"), hashlib.sha256).hexdigest()
        return f"{MEDIA_PREFIX}{digest[:32]}/"

    def active(self, today: date) -> list[Subscriber]:
        """Subscribers whose feeds are published, by name."""
        return [subscriber for _, subscriber in sorted(self.subscribers.items()) if subscriber.active(today)]


def parse_state(data: bytes, where: str) -> StaffState:
    """Read the private state's JSON; `where` names it in the error if it is unreadable."""
    try:
        document = json.loads(data)
        subscribers = {
            str(name): Subscriber(
                name=str(name),
                email=record.get("email"),
                created=str(record["created"]),
                expires=record.get("expires"),
                status=Status(record["status"]),
                token_sha256=str(record["token_sha256"]),
                published={str(name): str(digest) for name, digest in record.get("published", {}).items()},
            )
            for name, record in document["subscribers"].items()
        }
        return StaffState(
            secret=str(document["secret"]),
            subscribers=subscribers,
            # Version 1 also listed subscribers' files here, under their tokens: a publish now finds those.
            objects={
                key: item for key, item in document.get("objects", {}).items() if not key.startswith(FEEDS_PREFIX)
            },
            episodes=dict(document.get("episodes", {})),
        )
    except (ValueError, KeyError, TypeError, AttributeError):
        raise StorageError(
            f"{where}: unreadable staff state (fix: restore it from a backup; without it no private feed can be "
            "updated or revoked)"
        ) from None


def private_storage(storage: Storage) -> Storage:
    """Where the private state of the destination `storage` lives: beside its public prefix or folder, never
    under it (the README's bucket policy makes only BUCKET/PREFIX/* readable)."""
    if isinstance(storage, S3Storage):
        if not storage.prefix:
            raise BriefingsError(
                f"{storage.describe()}: staff-only briefings need the show under a prefix, so the private state "
                "can sit beside it where the public cannot read it (fix: publish to s3://BUCKET/PREFIX)"
            )
        # No ACL: objects are private unless a policy says otherwise, whatever --acl the public files get.
        return S3Storage(storage.client, storage.bucket, storage.prefix + PRIVATE_SUFFIX)
    if isinstance(storage, LocalStorage):
        root = storage.root.resolve()
        return LocalStorage(root.parent / (root.name + PRIVATE_SUFFIX))
    raise BriefingsError(f"{storage.describe()}: staff-only briefings need a folder or an s3:// destination")


def read_state(private: Storage) -> tuple[StaffState, str | None]:
    """The private state and its version tag; an empty state (tag None) before the first subscriber."""
    data, tag = private.read_tagged(STATE_KEY)
    if data is None:
        return StaffState(), None
    return parse_state(data, f"{private.describe()}{STATE_KEY}"), tag


def update(private: Storage, change: Callable[[StaffState], tuple[StaffState, T]]) -> T:
    """Apply `change` to the private state and write it conditionally; on a conflict read it again and redo
    `change`, so two producers changing it at once both land. Returns what `change` returned."""
    return _update(private, change)[0]


def _update(private: Storage, change: Callable[[StaffState], tuple[StaffState, T]]) -> tuple[T, StaffState, str]:
    """`update`, also returning the state written and its version tag."""

    def changed(data: bytes | None) -> tuple[bytes, tuple[T, StaffState]]:
        state = StaffState() if data is None else parse_state(data, f"{private.describe()}{STATE_KEY}")
        if not state.secret:
            state = replace(state, secret=secrets.token_hex(32))
        new, result = change(state)
        return new.to_bytes(), (result, new)

    (result, state), tag = update_json(private, STATE_KEY, changed)
    return result, state, tag


def _write(storage: Storage, key: str, source: Path | bytes) -> None:
    """Write a private object; an error names its key without the secret part."""
    try:
        storage.write(key, source, content_type(key), cache_control(key))
    except StorageError as error:
        raise StorageError(SECRET_PART.sub(r"\1/<secret>/", str(error))) from None


def _delete(storage: Storage, key: str) -> None:
    """Delete a private object; an error names its key without the secret part."""
    try:
        storage.delete(key)
    except StorageError as error:
        raise StorageError(SECRET_PART.sub(r"\1/<secret>/", str(error))) from None


def feed_address(base_url: str, token: str) -> str:
    """A subscriber's private feed address."""
    return f"{base_url}{FEEDS_PREFIX}{token}/{FEED_NAME}"


def archive_address(base_url: str, token: str) -> str:
    """The address of a subscriber's private archive (the page their feed links to)."""
    return f"{base_url}{FEEDS_PREFIX}{token}/{ARCHIVE_NAME}"


def _checked_name(name: str) -> str:
    text = " ".join(name.split())
    if not text or len(text) > MAX_NAME or not text.isprintable():
        raise UsageError(
            f"NAME {printable(name)!r}: not a name (fix: give the subscriber's name, 1 to {MAX_NAME} printable "
            'characters, e.g. "Sam Patel, health visiting")'
        )
    return text


def _checked_email(email: str | None) -> str | None:
    if email is None:
        return None
    _, address = parseaddr(email)
    local, _, domain = address.partition("@")
    if not local or "." not in domain or address != email.strip() or not address.isprintable():
        raise UsageError(f"--email {printable(email)!r}: not an email address (fix: give one like name@example.org)")
    return address


def _checked_expiry(expires: str | None, today: date) -> str | None:
    if expires is None:
        return None
    try:
        day = date.fromisoformat(expires.strip())
    except ValueError:
        raise UsageError(
            f"--expires {printable(expires)!r}: not a date (fix: give YYYY-MM-DD, e.g. 2027-03-31)"
        ) from None
    if day < today:
        raise UsageError(f"--expires {expires}: already past (fix: give today or a later date, YYYY-MM-DD)")
    return day.isoformat()


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def _new_token() -> tuple[str, str]:
    """A fresh address: the token (128 random bits) and its SHA-256."""
    token = secrets.token_urlsafe(16)
    return token, _digest(token)


def _token_of(key: str) -> str:
    return key.removeprefix(FEEDS_PREFIX).split("/", 1)[0]


def _folder(token: str) -> str:
    return f"{FEEDS_PREFIX}{token}/"


def _folders(keys: Iterable[str]) -> dict[str, str]:
    """The subscriber folders among the destination's `keys`, by the SHA-256 of their token: how a publish
    or a revoke finds a subscriber's folder from the hash the private state keeps."""
    return {
        _digest(token): _folder(token) for token in {_token_of(key) for key in keys if key.startswith(FEEDS_PREFIX)}
    }


def _start_folder(storage: Storage, token: str) -> None:
    """Put the placeholder in a new subscriber folder, after the state names its hash (so a publish running
    meanwhile never takes the folder for a revoked subscriber's)."""
    _write(storage, _folder(token) + ARCHIVE_NAME, PLACEHOLDER)


def add(storage: Storage, name: str, email: str | None, expires: str | None, now: datetime) -> tuple[Subscriber, str]:
    """Record a new subscriber at the destination `storage`; them and their token (shown only now)."""
    name, email = _checked_name(name), _checked_email(email)
    expires = _checked_expiry(expires, now.date())
    token, digest = _new_token()

    earlier: list[Subscriber] = []  # a revoked subscriber of the same name, whom the new one replaces

    def change(state: StaffState) -> tuple[StaffState, Subscriber]:
        known = state.subscribers.get(name)
        earlier[:] = [] if known is None else [known]
        if known is not None and known.status is Status.ACTIVE:
            raise UsageError(
                f"{name}: already a subscriber (fix: choose another name, or give them a new address with "
                f"`briefings staff rotate {name!r}`)"
            )
        subscriber = Subscriber(name, email, now.isoformat(timespec="seconds"), expires, Status.ACTIVE, digest)
        return replace(state, subscribers={**state.subscribers, name: subscriber}), subscriber

    def forget(state: StaffState) -> tuple[StaffState, None]:
        if state.subscribers.get(name) != subscriber:
            return state, None
        people = {key: item for key, item in state.subscribers.items() if key != name}
        if earlier:
            people[name] = earlier[0]
        return replace(state, subscribers=people), None

    private = private_storage(storage)
    subscriber = update(private, change)
    try:
        _start_folder(storage, token)
    except StorageError:
        update(private, forget)  # as if never added: the address was never given
        raise
    return subscriber, token


def subscribers(storage: Storage) -> list[Subscriber]:
    """Every subscriber the destination's private state records, by name (revoked ones too)."""
    state, _ = read_state(private_storage(storage))
    return [subscriber for _, subscriber in sorted(state.subscribers.items())]


def _known(state: StaffState, name: str) -> Subscriber:
    subscriber = state.subscribers.get(_checked_name(name))
    if subscriber is None or subscriber.status is not Status.ACTIVE:
        names = ", ".join(repr(known) for known, item in sorted(state.subscribers.items())
                          if item.status is Status.ACTIVE)  # fmt: skip
        raise UsageError(
            f"{name}: no such subscriber (fix: choose one of: {names or 'none yet'}; see `briefings staff list`)"
        )
    return subscriber


@dataclass(frozen=True)
class Changed:
    """What `revoke` or `rotate` did: the subscriber (as they were before a revoke), their new token (after a
    rotate), and the keys deleted at the destination (their old feed and archive), for a CDN to drop."""

    subscriber: Subscriber
    deleted: tuple[str, ...]
    token: str | None = None


def _delete_folder(storage: Storage, digest: str) -> tuple[str, ...]:
    """Delete the subscriber folder whose token hashes to `digest`; the keys deleted."""
    keys = storage.sizes()
    folder = _folders(keys).get(digest)
    deleted = tuple(sorted(key for key in keys if folder is not None and key.startswith(folder)))
    for key in deleted:
        _delete(storage, key)
    return deleted


def revoke(storage: Storage, name: str, rotate_media: bool = False) -> Changed:
    """Revoke a subscriber: their feed and archive are deleted at once, and they are kept in the state as revoked.

    `rotate_media` also draws a new secret, so the next publish moves every staff-only file to new keys
    (and deletes the old ones): for a lost phone, whose app knows the old files' addresses.
    """

    def change(state: StaffState) -> tuple[StaffState, Subscriber]:
        subscriber = _known(state, name)
        revoked = replace(subscriber, status=Status.REVOKED, published={})
        if rotate_media:
            state = replace(state, secret=secrets.token_hex(32))
        return replace(state, subscribers={**state.subscribers, subscriber.name: revoked}), subscriber

    old = update(private_storage(storage), change)
    return Changed(old, _delete_folder(storage, old.token_sha256))


def rotate(storage: Storage, name: str) -> Changed:
    """Give a subscriber a new address and delete the feed and archive at the old one."""
    token, digest = _new_token()

    def change(state: StaffState) -> tuple[StaffState, tuple[Subscriber, Subscriber]]:
        subscriber = _known(state, name)
        rotated = replace(subscriber, token_sha256=digest, published={})
        return replace(state, subscribers={**state.subscribers, subscriber.name: rotated}), (subscriber, rotated)

    def undo(state: StaffState) -> tuple[StaffState, None]:
        if state.subscribers.get(new.name) != new:
            return state, None
        return replace(state, subscribers={**state.subscribers, new.name: old}), None

    private = private_storage(storage)
    old, new = update(private, change)
    try:
        _start_folder(storage, token)
    except StorageError:
        update(private, undo)  # their old address still answers: the new one was never given
        raise
    return Changed(new, _delete_folder(storage, old.token_sha256), token)


def render_private_feed(show: Show, episodes: Sequence[Episode], artwork_key: str, feed_key: str) -> bytes:
    """A subscriber's feed: `episodes` at `feed_key` (its rel=self), linking to their private archive beside
    it, marked so no directory lists it, with no WebSub hub (nothing is ever pinged about it)."""
    root = etree.fromstring(render_feed(show, episodes, artwork_key, feed_key), etree.XMLParser(remove_blank_text=True))
    channel = root.find("channel")
    assert channel is not None
    for hub in channel.findall(f"{{{ATOM_NS}}}link[@rel='hub']"):
        channel.remove(hub)
    link = channel.find("link")
    assert link is not None
    link.text = archive_address(show.url, _token_of(feed_key))
    first_item = channel.find("item")
    blocks = []
    # Apple: `<itunes:block>Yes</itunes:block>` keeps the show out of Apple Podcasts
    # (https://podcasters.apple.com/support/823-podcast-requirements); Podcasting 2.0's
    # `<podcast:block>yes</podcast:block>` asks every platform not to list it
    # (https://github.com/Podcastindex-org/podcast-namespace/blob/main/docs/1.0.md#block).
    for tag, value in ((f"{{{ITUNES_NS}}}block", "Yes"), (f"{{{PODCAST_NS}}}block", "yes")):
        block = etree.Element(tag)
        block.text = value
        blocks.append(block)
    for block in blocks:
        if first_item is not None:
            first_item.addprevious(block)
        else:
            channel.append(block)
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True))


@dataclass(frozen=True)
class PrivateSide:
    """The private state of a destination as a publish first reads it (one request)."""

    storage: Storage | None  # None for a bucket without a prefix, which cannot hold staff-only briefings
    state: StaffState
    tag: str | None

    def version(self, today: date) -> str | None:
        """What a publish must redo when it changes: the state's version and who is active `today`."""
        active = ",".join(subscriber.token_sha256 for subscriber in self.state.active(today))
        return None if self.tag is None else hashlib.sha256(f"{self.tag}|{active}".encode()).hexdigest()


def read_private(storage: Storage) -> PrivateSide:
    """The private state of the destination `storage` (empty if it has none, or can have none)."""
    try:
        private = private_storage(storage)
    except BriefingsError:
        return PrivateSide(None, StaffState(), None)
    state, tag = read_state(private)
    return PrivateSide(private, state, tag)


def media_namer(storage: Storage, side: PrivateSide, dry_run: bool) -> Callable[[str], str]:
    """A staff-only briefing's private folder at `storage`, from the private state's secret (made on first
    use; a dry run, which writes nothing, makes a throwaway one)."""
    made: list[StaffState] = [side.state] if side.state.secret else []

    def folder(slug: str) -> str:
        if not made:
            private = private_storage(storage)  # refuses a bucket without a prefix, before anything is written
            if dry_run:
                made.append(replace(side.state, secret=secrets.token_hex(32)))
            else:
                made.append(update(private, lambda current: (current, current)))
        return made[0].media_folder(slug)

    return folder


@dataclass(frozen=True)
class PrivatePublish:
    """What a publish did to the private feeds: keys written and deleted (never shown: they are secret)."""

    feeds: int
    written: int
    deleted: int
    # The private state's version afterwards (PrivateSide.version).
    version: str | None = None


def publish_private(
    storage: Storage,
    side: PrivateSide,
    result: Build,
    artwork_key: str,
    now: datetime,
    *,
    dry_run: bool,
    reporter: Reporter,
) -> PrivatePublish | None:
    """Bring every active subscriber's feed and archive and the staff-only files up to date at `storage`,
    after the public publish: files first, then pages, then feeds, then the private state; then delete what
    no feed names (the folders of subscribers revoked or expired, withdrawn staff-only briefings' files
    and pages, the private search as it was). None when there is nothing private.
    """
    private = side.storage
    if private is None:
        return None  # a bucket without a prefix: the build refused any staff-only briefing already
    if not side.state.subscribers and not side.state.objects and not result.staff_episodes:
        return None  # nothing private (one added since is the next publish's)
    # Read again (the build took a while): a subscriber rotated or revoked meanwhile is not warned about.
    state, _ = (side.state, side.tag) if dry_run else read_state(private)
    # Listed after the state is read, not taken from the public publish's listing: a subscriber added in
    # between has their folder here, and one added after is not in this state, so none is warned about.
    existing = storage.sizes()
    found = _folders(existing)
    # Each active subscriber's folder, found by their token's hash.
    folders: dict[str, str] = {}
    for subscriber in state.active(now.date()):
        folder = found.get(subscriber.token_sha256)
        if folder is None:
            reporter.problem(
                f"warning: {printable(subscriber.name)}: their private folder is gone from the destination, so "
                f"they have no feed (fix: `briefings staff rotate {subscriber.name!r}` and send them the new address)"
            )
        else:
            folders[subscriber.name] = folder
    episodes = [*result.episodes, *result.staff_episodes]
    feeds = {
        name: render_private_feed(result.show, episodes, artwork_key, folder + FEED_NAME)
        for name, folder in folders.items()
    }
    # Each file as (its source, SHA-256, size, upload stage) by key, and the subscriber whose folder has it.
    wanted: dict[str, tuple[Path | bytes, str, int, int]] = {}
    owner: dict[str, tuple[str, str]] = {}  # key -> (subscriber, file name in their folder)

    def mine(name: str, file: str, data: bytes, stage: int) -> None:
        key = folders[name] + file
        wanted[key] = (data, hashlib.sha256(data).hexdigest(), len(data), stage)
        owner[key] = (name, file)

    # Staff-only files only once some subscriber can hear them.
    if feeds:
        wanted = {
            output.key: (output.path, output.sha256, output.size, output.stage) for output in result.private_outputs
        }
        # The public archive's search, then the staff-only briefings' own, merged into it in the browser.
        searches = [output.key for output in (*result.outputs, *result.private_outputs)
                    if output.key.endswith(SEARCH_SCRIPT_KEY)]  # fmt: skip
        listed = [*result.episodes, *result.harvested, *result.staff_episodes]
        # The staff-only briefings' results, whose records are in their bundle, not the public one.
        staff_results = [PurePosixPath(output.key).stem for output in result.private_outputs
                         if PurePosixPath(output.key).parent.match(f"{BUNDLE_DIR}/{RECORD_DIR}")]  # fmt: skip
        archive = render_private_index(
            result.show, listed, searches, staff_results, up=SUBSCRIBER_UP, feed_name=FEED_NAME
        )
        for name in feeds:
            for file, data in archive.items():
                mine(name, file, data, PAGES)
    for name, data in feeds.items():
        mine(name, FEED_NAME, data, FEEDS)
    writes: list[tuple[str, Path | bytes]] = []
    # Media and side files, then pages, then feeds: nothing names a file not there yet.
    for key, (source, sha256, size, _) in sorted(wanted.items(), key=lambda item: (item[1][3], item[0])):
        if key in owner:
            name, file = owner[key]
            known = state.subscribers[name].published.get(file)
        else:
            known = state.objects.get(key, {}).get("sha256")
        if known != sha256 or existing.get(key) != size:
            writes.append((key, source))
    objects = {
        key: {"sha256": sha256, "size": size} for key, (_, sha256, size, _) in wanted.items() if key not in owner
    }
    stale = sorted(key for key in state.objects if key not in objects)
    ours = set(folders.values())

    def leftovers(current: StaffState) -> list[str]:
        """What goes from the subscriber folders: all but the active subscribers' (revoked, expired, or
        revoked or rotated while this publish ran: the files just written for them too), and the files
        no longer wanted in ours (pages the archive no longer has)."""
        still = {subscriber.token_sha256 for subscriber in current.active(now.date())}

        def goes(key: str) -> bool:
            token = _token_of(key)
            return _digest(token) not in still or (_folder(token) in ours and key not in wanted)

        return sorted(key for key in {*existing, *wanted} if key.startswith(FEEDS_PREFIX) and goes(key))

    if dry_run:
        return PrivatePublish(len(feeds), len(writes), len(stale) + len(leftovers(state)), side.version(now.date()))
    for key, source in writes:
        _write(storage, key, source)
    reporter.detail(f"wrote {len(writes)} private file(s) for {len(feeds)} private feed(s)")
    gone: list[str] = []

    def record(current: StaffState) -> tuple[StaffState, None]:
        gone[:] = [*stale, *leftovers(current)]
        people = dict(current.subscribers)
        for name in folders:
            known = people.get(name)
            if known is not None and known.token_sha256 == state.subscribers[name].token_sha256:
                files = {file: wanted[key][1] for key, (owned, file) in owner.items() if owned == name}
                people[name] = replace(known, published=files)
        kept = {key: current.objects[key] for key in stale if key in current.objects}
        episodes_now = {
            episode.slug: {"guid": episode.guid, "media": episode.media_key} for episode in result.staff_episodes
        }
        return replace(current, subscribers=people, objects={**objects, **kept}, episodes=episodes_now), None

    _, last, tag = _update(private, record)
    for key in gone:
        _delete(storage, key)

    def forget(current: StaffState) -> tuple[StaffState, None]:
        return replace(current, objects={key: item for key, item in current.objects.items() if key not in stale}), None

    if stale:
        _, last, tag = _update(private, forget)
    return PrivatePublish(len(feeds), len(writes), len(gone), PrivateSide(private, last, tag).version(now.date()))


def private_feeds(storage: Storage, now: datetime) -> dict[str, int]:
    """Each staff-only briefing the private feeds list, with how many active feeds list it (for `status`)."""
    state = read_private(storage).state
    feeds = sum(1 for subscriber in state.active(now.date()) if FEED_NAME in subscriber.published)
    return {slug: feeds for slug in state.episodes} if feeds else {}
