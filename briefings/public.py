"""Check that a podcast app could read what was published: an anonymous fetch of the feed's public URL."""

from __future__ import annotations

import hashlib
import urllib.error
import urllib.request

from briefings import __version__

# A podcast app polls with no credentials at all; so does this check.
TIMEOUT_SECONDS = 15
ADVICE = (
    "make the bucket readable by anyone (README, section 'Making the feed public'), or publish with "
    "--acl public-read on stores that use ACLs"
)


def check_public(url: str, expected_sha256: str) -> str | None:
    """Fetch `url` anonymously; None if it serves exactly the published bytes, else a warning to show."""
    request = urllib.request.Request(url, headers={"User-Agent": f"briefings/{__version__} (public check)"})
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
            body = response.read()
    except urllib.error.HTTPError as error:
        if error.code in (401, 403):
            return f"{url}: podcast apps cannot read the feed (HTTP {error.code} {error.reason}) (fix: {ADVICE})"
        if error.code == 404:
            return (
                f"{url}: not found (HTTP 404), so podcast apps cannot subscribe (fix: set base_url in show.toml "
                "to the public address of this bucket and prefix, or of the CDN in front of it)"
            )
        return f"{url}: podcast apps cannot read the feed (HTTP {error.code} {error.reason}) (fix: {ADVICE})"
    except (urllib.error.URLError, TimeoutError, OSError) as error:
        reason = getattr(error, "reason", error)
        return (
            f"{url}: cannot be fetched ({reason}), so podcast apps may not reach the feed (fix: check base_url in "
            "show.toml and that the bucket or CDN is reachable from the internet)"
        )
    if hashlib.sha256(body).hexdigest() != expected_sha256:
        return (
            f"{url}: serves a different feed from the one just published (fix: if a CDN is in front, it updates "
            "within the feed's max-age of 5 minutes; otherwise point base_url in show.toml at this bucket and prefix)"
        )
    return None
