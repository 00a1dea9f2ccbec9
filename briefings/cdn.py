"""Tell a CDN (Amazon CloudFront) to forget the copies it keeps of replaced and deleted files.

Media are cached for a year (`immutable, max-age=31536000`), so a withdrawn briefing's audio stays
reachable through a CDN until it is invalidated: the takedown is complete only after this.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote, urlsplit

from botocore.exceptions import BotoCoreError, ClientError

from briefings.errors import BriefingsError

# CloudFront takes at most 3000 paths in one invalidation (its quotas page); beyond that, one wildcard
# for everything under base_url costs the same as a single path.
MAX_PATHS = 3000
INDEX = "index.html"


def invalidation_paths(base_url: str, keys: Iterable[str]) -> list[str]:
    """The CDN paths that serve `keys` under `base_url`: a folder's index.html is served at the folder too."""
    base = _base_path(base_url)
    paths = set()
    for key in keys:
        paths.add(base + quote(key))
        if key == INDEX or key.endswith("/" + INDEX):
            paths.add(base + quote(key.removesuffix(INDEX)))
    if len(paths) > MAX_PATHS:
        return [base + "*"]
    return sorted(paths)


def _base_path(base_url: str) -> str:
    return urlsplit(base_url).path or "/"


def invalidate(client: Any, distribution: str, base_url: str, keys: Iterable[str]) -> tuple[str, list[str]]:
    """Ask CloudFront to drop its copies of `keys` in `distribution`; return the invalidation's ID and paths."""
    paths = invalidation_paths(base_url, keys)
    batch = {"Paths": {"Quantity": len(paths), "Items": paths}, "CallerReference": uuid.uuid4().hex}
    by_hand = f"aws cloudfront create-invalidation --distribution-id {distribution} --paths '{_base_path(base_url)}*'"
    try:
        response = client.create_invalidation(DistributionId=distribution, InvalidationBatch=batch)
    except ClientError as error:
        code = str(error.response.get("Error", {}).get("Code", ""))
        fix = {
            "NoSuchDistribution": "give the distribution's ID as the CloudFront console lists it, e.g. E2QWRUHAPOMQZL, "
            f"then run {by_hand}",
            "AccessDenied": "allow cloudfront:CreateInvalidation on this distribution to these credentials, then run "
            + by_hand,
        }.get(code, f"run {by_hand}")
        raise BriefingsError(
            f"--invalidate-cdn {distribution}: CloudFront refused the invalidation ({code}); the publish itself is "
            f"done (fix: {fix})"
        ) from None
    except BotoCoreError as error:
        raise BriefingsError(
            f"--invalidate-cdn {distribution}: CloudFront could not be asked ({type(error).__name__}); the publish "
            f"itself is done (fix: check the network and the AWS credentials, then run {by_hand})"
        ) from None
    return str(response["Invalidation"]["Id"]), paths
