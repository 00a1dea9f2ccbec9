"""Check that a podcast app could read what was published: an anonymous fetch of the feed's public URL."""

from __future__ import annotations

import hashlib

import requests

from briefings import web

# A podcast app polls with no credentials at all; so does this check.
TIMEOUT_SECONDS = 15
# The main feed is well under this; more is not a feed (e.g. a captive portal's page).
MAX_FEED_BYTES = 64 * 1024 * 1024
ADVICE = (
    "make the bucket readable by anyone (README, section 'Making the feed public'), or publish with "
    "--acl public-read on stores that use ACLs"
)


def check_public(url: str, expected_sha256: str) -> str | None:
    """Fetch `url` anonymously; None if it serves exactly the published bytes, else a warning to show."""
    digest = hashlib.sha256()
    try:
        with web.session("public check") as client, client.get(url, timeout=TIMEOUT_SECONDS, stream=True) as response:
            if response.status_code == 404:
                return (
                    f"{url}: not found (HTTP 404), so podcast apps cannot subscribe (fix: set base_url in show.toml "
                    "to the public address of this bucket and prefix, or of the CDN in front of it)"
                )
            if response.status_code != 200:
                return (
                    f"{url}: podcast apps cannot read the feed (HTTP {response.status_code} {response.reason}) "
                    f"(fix: {ADVICE})"
                )
            size = 0
            for chunk in response.iter_content(256 * 1024):
                size += len(chunk)
                if size > MAX_FEED_BYTES:
                    break
                digest.update(chunk)
    except requests.RequestException as error:
        return (
            f"{url}: cannot be fetched ({web.reason(error, TIMEOUT_SECONDS)}), so podcast apps may not reach the "
            "feed (fix: check base_url in show.toml and that the bucket or CDN is reachable from the internet)"
        )
    if digest.hexdigest() != expected_sha256:
        return (
            f"{url}: serves a different feed from the one just published (fix: if a CDN is in front, it updates "
            "within the feed's max-age of 5 minutes; otherwise point base_url in show.toml at this bucket and prefix)"
        )
    return None
