"""Opening a publish destination: a folder or s3://BUCKET/PREFIX, with each setting checked.

Every setting comes from, in order: the caller's flags, the environment, show.toml, boto3's defaults.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from briefings import __version__
from briefings.config import SHOW_FILE, PublishSettings, Show
from briefings.errors import BriefingsError, UsageError
from briefings.progress import Reporter
from briefings.storage import LocalStorage, S3Storage, Storage, without_credentials

# s3://BUCKET/PREFIX; bucket names per the S3 naming rules (3-63 lowercase letters, digits, dots, hyphens):
# https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html
S3_DESTINATION = re.compile(r"^s3://(?P<bucket>[^/]*)/?(?P<prefix>.*)$")
BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
WRITE_METHODS = ("PUT", "POST", "DELETE")


@dataclass(frozen=True)
class Destination:
    """Where to publish, as the caller gives it; each unset field falls back to the environment, then show.toml."""

    to: str | None = None
    profile: str | None = None
    endpoint_url: str | None = None
    region: str | None = None
    acl: str | None = None


class RequestCounter:
    """Counts the HTTP requests an S3 client sends, by method, from botocore's `before-send` event."""

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}
        self._lock = threading.Lock()

    def __call__(self, request: Any, **_: Any) -> None:
        with self._lock:
            self.counts[request.method] = self.counts.get(request.method, 0) + 1

    @property
    def writes(self) -> int:
        """Requests that change the bucket."""
        return sum(self.counts.get(method, 0) for method in WRITE_METHODS)


def s3_client(profile: str | None, endpoint_url: str | None, region: str | None, counter: RequestCounter) -> Any:
    """An S3 client from boto3's standard credential chain, with botocore's standard retry mode."""
    # boto3 takes a third of a second to import: only commands that reach a bucket need it.
    import boto3
    from botocore.config import Config as BotocoreConfig

    session = boto3.session.Session(profile_name=profile, region_name=region)
    # Standard retry mode retries throttling, 5xx and dropped connections with backoff; the number of
    # attempts comes from AWS_MAX_ATTEMPTS or the profile (default 3). Checksum behaviour is left to
    # botocore, so AWS_REQUEST_CHECKSUM_CALCULATION=when_required works for stores that reject CRCs.
    config = BotocoreConfig(
        # SigV4 everywhere: presigned POSTs for invitations signed with SigV2 fields are refused by newer
        # regions, and SigV2 is deprecated: https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-authenticating-requests.html
        signature_version="s3v4",
        retries={"mode": "standard"},
        connect_timeout=10,
        read_timeout=60,
        user_agent_extra=f"briefings/{__version__}",
    )
    client = session.client("s3", endpoint_url=endpoint_url, config=config)
    client.meta.events.register("before-send.s3", counter)
    return client


def cloudfront_client(profile: str | None) -> Any:
    """A CloudFront client from boto3's standard credential chain."""
    import boto3
    from botocore.config import Config as BotocoreConfig
    from botocore.exceptions import BotoCoreError

    try:
        # CloudFront is global; its API is signed for us-east-1 whatever the bucket's region.
        session = boto3.session.Session(profile_name=profile, region_name="us-east-1")
        config = BotocoreConfig(retries={"mode": "standard"}, user_agent_extra=f"briefings/{__version__}")
        return session.client("cloudfront", config=config)
    except (BotoCoreError, ValueError) as error:
        raise BriefingsError(
            f"--invalidate-cdn: no CloudFront client ({without_credentials(str(error))}) (fix: check the AWS "
            "credentials and settings, as for publishing to S3)"
        ) from None


def temporary_credentials(settings: PublishSettings, spec: Destination, env: Mapping[str, str]) -> bool:
    """True when boto3's chain finds temporary credentials (a session token: STS, SSO, an assumed role),
    which stop signing anything, presigned uploads included, when the session ends."""
    import boto3
    from botocore.exceptions import BotoCoreError

    try:
        credentials = boto3.session.Session(profile_name=boto_profile(settings, spec, env)).get_credentials()
    except BotoCoreError:
        return False  # opening the destination has already said what is wrong with them
    return credentials is not None and bool(credentials.get_frozen_credentials().token)


def boto_profile(settings: PublishSettings, spec: Destination, env: Mapping[str, str]) -> str | None:
    """The profile to give boto3: a flag, else show.toml's unless AWS_PROFILE is set (boto3 reads that itself)."""
    return spec.profile or (None if env.get("AWS_PROFILE") else settings.profile)


def _chosen(
    flag: str, given: str | None, variables: tuple[str, ...], field: str, configured: str | None, env: Mapping[str, str]
) -> tuple[str | None, str]:
    """A setting's value (a flag, else an environment variable, else show.toml) and how a message names it."""
    if given:
        return given, f"{flag} {without_credentials(given)}"
    for variable in variables:
        if env.get(variable):
            return env[variable], f"{variable}={without_credentials(env[variable])}"
    return configured, f"{SHOW_FILE}: {field}: {without_credentials(configured or '')}"


def _setting_error(where: str, problem: str, flag: bool | None = None) -> BriefingsError:
    """A bad flag is a usage error (exit 2); a bad environment variable or show.toml setting is bad input (1).

    `where` names the setting; it is a flag when it starts with `--`, unless `flag` says otherwise.
    """
    usage = where.startswith("--") if flag is None else flag
    return (UsageError if usage else BriefingsError)(f"{where}: {problem}")


def _endpoint_problem(url: str) -> str | None:
    """What is wrong with an S3 endpoint URL, with the fix; None if nothing is."""
    example = "(fix: e.g. https://minio.example.org:9000)"
    parts = urlsplit(url)
    try:
        parts.port  # noqa: B018 - reading it checks the port number
    except ValueError:
        return f"not an http(s) URL {example}"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"not an http(s) URL {example}"
    if parts.username is not None or parts.password is not None:
        return (
            "has a user name or password in it, which S3 does not use (fix: remove them; credentials come from "
            "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, ~/.aws or --profile)"
        )
    return None


def _checked_s3_client(
    settings: PublishSettings, spec: Destination, env: Mapping[str, str], counter: RequestCounter
) -> Any:
    """The S3 client for a destination, after checking each setting, so a bad one is a one-line error."""
    from botocore.exceptions import InvalidRegionError, PartialCredentialsError, ProfileNotFound
    from botocore.utils import validate_region_name

    profile, profile_where = _chosen("--profile", spec.profile, ("AWS_PROFILE",), "profile", settings.profile, env)
    endpoint, endpoint_where = _chosen(
        "--endpoint-url", spec.endpoint_url, ("AWS_ENDPOINT_URL",), "endpoint_url", settings.endpoint_url, env
    )
    region, region_where = _chosen(
        "--region", spec.region, ("AWS_REGION", "AWS_DEFAULT_REGION"), "region", settings.region, env
    )
    problem = _endpoint_problem(endpoint) if endpoint else None
    if problem:
        raise _setting_error(endpoint_where, problem)
    try:
        if region:
            validate_region_name(region)
    except InvalidRegionError:
        raise _setting_error(
            region_where, "not a region name (fix: e.g. eu-west-2; us-east-1 suits most S3-compatible stores)"
        ) from None
    attempts = env.get("AWS_MAX_ATTEMPTS", "1")
    if not attempts.isdigit() or int(attempts) < 1:
        raise BriefingsError(f"AWS_MAX_ATTEMPTS={attempts}: not a whole number of attempts (fix: e.g. 5, or unset it)")
    try:
        # Defaults < show.toml < environment < flags: boto3 reads the environment itself.
        return s3_client(
            boto_profile(settings, spec, env),
            endpoint if spec.endpoint_url or not env.get("AWS_ENDPOINT_URL") else None,
            region if spec.region or not region_where.startswith("AWS_") else None,
            counter,
        )
    except ProfileNotFound:
        raise _setting_error(
            profile_where,
            f"no such profile in the AWS config files (fix: add it with `aws configure --profile {profile}`, or give another)",
        ) from None
    except PartialCredentialsError as error:
        raise BriefingsError(
            f"AWS credentials: {error.kwargs.get('cred_var', 'a key')} is missing (fix: set both AWS_ACCESS_KEY_ID and "
            "AWS_SECRET_ACCESS_KEY, or neither and give --profile NAME)"
        ) from None
    except ValueError as error:  # a bad value in the profile: botocore says which
        raise BriefingsError(
            f"AWS settings: {without_credentials(str(error))} (fix: correct it in the AWS_* environment variables or ~/.aws/config)"
        ) from None


@dataclass(frozen=True)
class Opened:
    """An open destination and the count of HTTP requests sent to it (none for a folder)."""

    storage: Storage
    requests: RequestCounter

    @property
    def write_requests(self) -> int:
        """Requests that changed the destination: HTTP writes to a bucket, files written to a folder."""
        if isinstance(self.storage, S3Storage):
            return self.requests.writes
        return int(getattr(self.storage, "writes", 0))


def open_destination(
    spec: Destination, show: Show, env: Mapping[str, str], workspace: Path, reporter: Reporter | None = None
) -> Opened:
    """The storage a destination names: a folder (relative to `workspace` when it comes from show.toml), or
    s3://BUCKET/PREFIX reached with boto3's standard credential chain; `reporter` shows large uploads."""
    settings = show.publish
    to = spec.to or settings.to
    counter = RequestCounter()
    match = S3_DESTINATION.match(to)
    if match:
        bucket, prefix = match["bucket"], match["prefix"].strip("/")
        if not BUCKET_NAME.match(bucket):
            raise _setting_error(
                f"{to}" if spec.to else f"{SHOW_FILE}: to: {to}",
                f"`{bucket}` is not a bucket name (fix: give s3://BUCKET/PREFIX, with 3 to 63 lowercase "
                "letters, digits, dots or hyphens in the bucket name)",
                flag=bool(spec.to),
            )
        storage = S3Storage(
            _checked_s3_client(settings, spec, env, counter),
            bucket,
            prefix,
            acl=spec.acl or settings.acl,
            transfer_progress=None if reporter is None else reporter.transfer,
        )
        return Opened(storage, counter)
    if "://" in to:
        raise _setting_error(
            f"--to {to}" if spec.to else f"{SHOW_FILE}: to: {to}",
            f"not a folder or an s3:// address (fix: give a folder, e.g. {'--to ' if spec.to else ''}feed, "
            "or s3://BUCKET/PREFIX)",
        )
    for flag, value in (("--profile", spec.profile), ("--endpoint-url", spec.endpoint_url),
                        ("--region", spec.region), ("--acl", spec.acl)):  # fmt: skip
        if value:
            raise UsageError(f"{flag}: only for s3:// destinations (fix: leave it out when publishing to a folder)")
    return Opened(LocalStorage(Path(to) if spec.to else workspace / to), counter)
