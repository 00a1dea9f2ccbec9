"""Invitations to submit a briefing from a browser, straight into the bucket, with no server and no account.

`briefings invite SLUG` signs two S3 presigned POSTs, one for the recording and one for the metadata, each
for one exact key under the inbox, `<PREFIX>-inbox/<slug>/<invitation id>/`, beside the public prefix and
outside it (nothing an author uploads is ever served from the site's origin). The link is the submission
page, `<base_url>submit/`, with everything the page needs in the URL fragment: browsers never send a
fragment to a server, so the signatures reach neither the CDN nor its logs. The invitations (never their
signatures) are kept in the private state beside the public prefix, with conditional writes as the staff's.

S3 POST policies: https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-HTTPPOSTConstructPolicy.html
"""

from __future__ import annotations

import base64
import json
import re
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime, timedelta
from enum import Enum
from typing import Annotated, Any, TypeVar
from urllib.parse import urlsplit

from pydantic import TypeAdapter, ValidationError

from briefings.errors import BriefingsError, StorageError, UsageError, printable
from briefings.staff import private_storage
from briefings.storage import S3Storage, Storage, update_json
from briefings.submission import SLUG_PATTERN, Review, slug_for
from briefings.submit_form import upload_address
from briefings.validation import explain

STATE_KEY = "invitations.json"
STATE_VERSION = 1
INBOX_SUFFIX = "-inbox"
RECORDING_NAME = "recording"
METADATA_NAME = "briefing.json"
METADATA_TYPE = "application/json"
MAX_METADATA_BYTES = 256 * 1024
DEFAULT_EXPIRY = "7d"
DEFAULT_MAX_MB = 300
# SigV4 presigned requests last at most 7 days (https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html,
# X-Amz-Expires); a POST policy's signature is made the same way, and the links keep to the same limit.
MAX_EXPIRY = timedelta(days=7)
EXPIRY = re.compile(r"^(?P<amount>[1-9][0-9]{0,3})(?P<unit>[dhm])$")
UNITS = {"d": timedelta(days=1), "h": timedelta(hours=1), "m": timedelta(minutes=1)}
# Stores that accept the S3 API but not browser POST uploads with a policy.
# https://developers.cloudflare.com/r2/api/s3/api/ (PostObject: not implemented);
# https://www.backblaze.com/docs/cloud-storage-s3-compatible-api (no POST object)
NO_POST_POLICY = {"r2.cloudflarestorage.com": "Cloudflare R2", "backblazeb2.com": "Backblaze B2"}
# Fields of the review the producer may decide, as the page names them (dotted paths into briefing.yaml).
FIXED_FIELDS = ("review.partnership", "review.region", "review.published", "review.type")
CORS_RULE_ID = "briefings-submit"
LIFECYCLE_RULE_ID = "briefings-inbox"
INBOX_DAYS = 30
T = TypeVar("T")


@dataclass(frozen=True)
class Invitation:
    """One author's invitation to submit one briefing (its slug) until it expires or is revoked."""

    id: str
    slug: str
    created: str
    expires: str
    max_bytes: int
    fixed: dict[str, str] = field(default_factory=dict)
    revoked: bool = False

    @property
    def folder(self) -> str:
        """The inbox folder the invitation's two uploads go to."""
        return f"{self.slug}/{self.id}/"

    def status(self, now: datetime) -> str:
        """active, expired or revoked."""
        if self.revoked:
            return "revoked"
        return "expired" if datetime.fromisoformat(self.expires) <= now else "active"

    def record(self) -> dict[str, Any]:
        """As the private state keeps it."""
        return asdict(self)


def expiry(text: str) -> timedelta:
    """`--expires` (e.g. 7d, 48h, 30m) as a duration of at most 7 days."""
    found = EXPIRY.match(text.strip())
    if found is None:
        raise UsageError(f"--expires {printable(text)}: not a duration (fix: e.g. 7d, 48h or 90m)")
    length = int(found["amount"]) * UNITS[found["unit"]]
    if length > MAX_EXPIRY:
        raise UsageError(
            f"--expires {text}: longer than 7 days, which S3 signatures (SigV4) cannot outlive (fix: give 7d at "
            "most, and send a new invitation if the author needs longer)"
        )
    return length


def fixed_fields(values: Mapping[str, str | None]) -> dict[str, str]:
    """The review fields the producer decides (`review.published` etc.), each checked as briefing.yaml's."""
    fixed: dict[str, str] = {}
    for path, value in values.items():
        if value is None:
            continue
        name = path.split(".", 1)[1]
        info = Review.model_fields[name]
        try:
            adapter: TypeAdapter[Any] = TypeAdapter(Annotated[info.annotation, *info.metadata])  # type: ignore[arg-type]
            checked = adapter.validate_python(value)
        except ValidationError as error:
            message, fix = explain(Review, error.errors()[0])  # check's own words for briefing.yaml's field
            option = {"type": "--review-type", "region": "--review-region"}.get(name, f"--{name}")
            raise UsageError(f"{option} {printable(value)!r}: {message} (fix: {fix})") from None
        # As briefing.yaml would say it once read: "SCR" is "serious case review" on the page too.
        if isinstance(checked, Enum):
            fixed[path] = checked.value
        elif isinstance(checked, datetime):
            fixed[path] = checked.isoformat()
        else:
            fixed[path] = str(checked)
    return fixed


def inbox_storage(storage: Storage) -> S3Storage:
    """Where authors' uploads land for the destination `storage`: `<PREFIX>-inbox/` of the same bucket."""
    if not isinstance(storage, S3Storage):
        raise BriefingsError(
            f"{storage.describe()}: authors upload straight into a bucket, and this is a folder (fix: give "
            "--to s3://BUCKET/PREFIX, or set `to` in show.toml's [publish])"
        )
    if not storage.prefix:
        raise BriefingsError(
            f"{storage.describe()}: the inbox must sit beside the show's prefix, where the public cannot read it "
            "(fix: publish the show under a prefix, s3://BUCKET/PREFIX)"
        )
    endpoint = urlsplit(storage.client.meta.endpoint_url).hostname or ""
    for domain, store in NO_POST_POLICY.items():
        if endpoint == domain or endpoint.endswith(f".{domain}"):
            raise BriefingsError(
                f"{storage.describe()}: {store} does not accept browser uploads with a POST policy, which "
                "invitations need (fix: keep the inbox on AWS S3 or MinIO, or ask authors to send their files)"
            )
    return S3Storage(storage.client, storage.bucket, storage.prefix + INBOX_SUFFIX)


def _state(data: bytes | None, where: str) -> dict[str, Invitation]:
    if data is None:
        return {}
    try:
        document = json.loads(data)
        return {item["id"]: Invitation(**item) for item in document["invitations"]}
    except (ValueError, KeyError, TypeError):
        raise StorageError(f"{where}: unreadable invitations (fix: restore it from a backup)") from None


def _encoded(invitations: dict[str, Invitation]) -> bytes:
    records = [invitation.record() for _, invitation in sorted(invitations.items())]
    return json.dumps({"version": STATE_VERSION, "invitations": records}, indent=1).encode("utf-8")


def read_invitations(storage: Storage) -> dict[str, Invitation]:
    """Every invitation made for the destination `storage`, by id."""
    private = private_storage(storage)
    return _state(private.read(STATE_KEY), f"{private.describe()}{STATE_KEY}")


def _update(storage: Storage, change: Callable[[dict[str, Invitation]], tuple[dict[str, Invitation], T]]) -> T:
    """Apply `change` to the invitations and write them only if no one else did meanwhile (else redo it)."""
    private = private_storage(storage)

    def changed(data: bytes | None) -> tuple[bytes, T]:
        invitations, result = change(_state(data, f"{private.describe()}{STATE_KEY}"))
        return _encoded(invitations), result

    return update_json(private, STATE_KEY, changed)[0]


def _checked_slug(slug: str) -> str:
    if not SLUG_PATTERN.match(slug):
        raise UsageError(
            f"SLUG {printable(slug)!r}: not a briefing's folder name (fix: lowercase letters, digits and hyphens, "
            f"e.g. {slug_for(slug) or 'child-d'})"
        )
    return slug


def _policy(
    inbox: S3Storage, name: str, condition: list[Any], fields: dict[str, str], size: int, seconds: int
) -> dict[str, Any]:
    """A presigned POST for exactly the inbox key `name`: its URL and form fields. The policy names the key
    itself (no `starts-with` over a prefix, no `${filename}`), a size range and the content type."""
    post = inbox.client.generate_presigned_post(
        Bucket=inbox.bucket,
        Key=inbox.full_key(name),
        Fields=fields,
        Conditions=[condition, ["content-length-range", 1, size]],
        ExpiresIn=seconds,
    )
    return {"url": post["url"], "fields": post["fields"]}


def invite(
    storage: Storage,
    slug: str,
    now: datetime,
    page_uploads_to: Sequence[str],
    expires: str = DEFAULT_EXPIRY,
    max_mb: int = DEFAULT_MAX_MB,
    fixed: Mapping[str, str | None] | None = None,
) -> tuple[Invitation, dict[str, Any]]:
    """Make an invitation for `slug` and sign its uploads; returns it and the page's payload (`link`).

    `page_uploads_to` are the addresses the submission page sends uploads to (submit_form.upload_urls): an
    invitation for another bucket is refused here, as the page would refuse it in the author's hands.
    """
    _checked_slug(slug)
    length = expiry(expires)
    if not 1 <= max_mb <= 5000:
        raise UsageError(f"--max-mb {max_mb}: out of range (fix: give 1 to 5000; a 30-minute talk is about 30 MB)")
    inbox = inbox_storage(storage)
    invitation = Invitation(
        id=secrets.token_hex(8),
        slug=slug,
        created=now.astimezone(UTC).isoformat(timespec="seconds"),
        expires=(now + length).astimezone(UTC).isoformat(timespec="seconds"),
        max_bytes=max_mb * 1024 * 1024,
        fixed=fixed_fields(fixed or {}),
    )
    seconds = int(length.total_seconds())
    # The page gives the recording's type (audio/...); the briefing's is fixed in the form.
    audio = ["starts-with", "$Content-Type", "audio/"]
    recording = _policy(inbox, invitation.folder + RECORDING_NAME, audio, {}, invitation.max_bytes, seconds)
    json_only = ["eq", "$Content-Type", METADATA_TYPE]
    fields = {"Content-Type": METADATA_TYPE}
    metadata = _policy(inbox, invitation.folder + METADATA_NAME, json_only, fields, MAX_METADATA_BYTES, seconds)
    if upload_address(recording["url"]) not in page_uploads_to:
        raise BriefingsError(
            f"{storage.describe()}: the submission page uploads only to the bucket in show.toml's [publish] (`to`, "
            "`endpoint_url`, `region`), and this is another (fix: set them to this bucket in show.toml and publish, "
            "so the page allows it; then invite again)"
        )
    _update(storage, lambda invitations: ({**invitations, invitation.id: invitation}, None))
    payload = {
        "v": 1,
        "slug": slug,
        "expires": invitation.expires,
        "max_bytes": invitation.max_bytes,
        "fixed": invitation.fixed,
        "recording": recording,
        "metadata": metadata,
    }
    return invitation, payload


def link(base_url: str, payload: Mapping[str, Any]) -> str:
    """The submission page's address with the invitation in its fragment (never sent to any server)."""
    data = json.dumps(payload, separators=(",", ":")).encode("utf-8")
    return f"{base_url}submit/#" + base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def revoke(storage: Storage, slug: str) -> list[Invitation]:
    """Revoke every invitation for `slug`: `inbox pull` ignores what is uploaded under them."""

    def change(invitations: dict[str, Invitation]) -> tuple[dict[str, Invitation], list[Invitation]]:
        revoked = [
            replace(item, revoked=True) for item in invitations.values() if item.slug == slug and not item.revoked
        ]
        return {**invitations, **{item.id: item for item in revoked}}, revoked

    revoked = _update(storage, change)
    if not revoked:
        raise UsageError(f"SLUG {printable(slug)!r}: no invitation to revoke (fix: see `briefings invite --list`)")
    return revoked


def bucket_rules(storage: Storage, base_url: str) -> dict[str, Any]:
    """What the bucket needs for the submission page: a CORS rule letting the site's origin POST (nothing
    more), and a lifecycle rule deleting what lies in the inbox for more than INBOX_DAYS days."""
    inbox = inbox_storage(storage)
    parts = urlsplit(base_url)
    # S3 CORS configuration: https://docs.aws.amazon.com/AmazonS3/latest/userguide/ManageCorsUsing.html
    cors = {
        "ID": CORS_RULE_ID,
        "AllowedOrigins": [f"{parts.scheme}://{parts.netloc}"],
        "AllowedMethods": ["POST"],
        "MaxAgeSeconds": 3600,
    }
    # https://docs.aws.amazon.com/AmazonS3/latest/userguide/lifecycle-configuration-examples.html
    lifecycle = {
        "ID": LIFECYCLE_RULE_ID,
        "Filter": {"Prefix": f"{inbox.prefix}/"},
        "Status": "Enabled",
        "Expiration": {"Days": INBOX_DAYS},
    }
    return {"bucket": inbox.bucket, "cors_rule": cors, "lifecycle_rule": lifecycle}


def apply_bucket_rules(storage: Storage, base_url: str) -> None:
    """Set `bucket_rules` on the bucket, replacing earlier rules of ours and keeping everyone else's."""
    from botocore.exceptions import ClientError

    rules = bucket_rules(storage, base_url)
    inbox = inbox_storage(storage)
    client, bucket = inbox.client, inbox.bucket
    with inbox.translated(""):
        try:
            cors = client.get_bucket_cors(Bucket=bucket)["CORSRules"]
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "NoSuchCORSConfiguration":
                raise
            cors = []
        try:
            lifecycle = client.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "NoSuchLifecycleConfiguration":
                raise
            lifecycle = []
        cors = [rule for rule in cors if rule.get("ID") != CORS_RULE_ID] + [rules["cors_rule"]]
        lifecycle = [rule for rule in lifecycle if rule.get("ID") != LIFECYCLE_RULE_ID] + [rules["lifecycle_rule"]]
        client.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": cors})
        client.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": lifecycle})
