"""The submission page's side of a briefing: the JSON Schema its form is checked against, made from the same
pydantic model `check` uses, and the bucket its uploads may go to.

The page (`submit/`, templates/submit.html and submit.js) checks the author's answers in the browser against
`submission_schema`, in `check`'s words; `briefings inbox pull` validates the upload again with `Briefing`,
which stays the authority.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import HttpUrl, TypeAdapter, ValidationError

from briefings.config import Show
from briefings.submission import MARKUP, MAX_SECONDS, Briefing, Chapter, Review, Text
from briefings.validation import INVISIBLE, explain

# Files the producer's `inbox pull` names, and choices that are the producer's, not the author's: the page
# neither asks for them nor sends them.
LEFT_TO_THE_PRODUCER = ("recording", "transcript", "artwork", "explicit", "episode", "withdraw_after", "audience")


def _refusal(annotation: Any, value: Any) -> list[str]:
    """What `check` says of `value` in a field of this type, as [message, fix]: the page shows the same."""
    adapter: TypeAdapter[Any] = TypeAdapter(annotation)
    try:
        adapter.validate_python(value)
    except ValidationError as error:
        return list(explain(Briefing, error.errors()[0]))
    raise AssertionError(f"{value!r} is valid")  # the samples below are chosen to fail


def _field_type(model: type[Review] | type[Chapter], name: str) -> Any:
    info = model.model_fields[name]
    return Annotated[info.annotation, *info.metadata]


def _plain_text(node: dict[str, Any]) -> None:
    """Text as briefing.yaml's `Text` takes it: something besides spaces, no invisible characters, no markup.
    Each rule carries check's words for it (`x-message`: what the page says when the rule fails)."""
    node["allOf"] = [
        {"pattern": r"\S", "x-message": _refusal(Text, " ")},
        {"not": {"pattern": INVISIBLE.pattern}, "x-message": _refusal(Text, "a\u200bb")},
        {"not": {"pattern": MARKUP.pattern}, "x-message": _refusal(Text, "<b>a</b>")},
    ]


def _walk(node: Any) -> None:
    if isinstance(node, dict):
        if node.get("type") == "string" and not {"format", "enum", "$ref"} & node.keys():
            _plain_text(node)
        for value in list(node.values()):
            _walk(value)
    elif isinstance(node, list):
        for value in node:
            _walk(value)


def submission_schema(themes: Sequence[str]) -> dict[str, Any]:
    """The JSON Schema (2020-12) of what the submission page sends: `Briefing`'s own schema without the files
    and the producer's choices, with the show's themes to pick from, an https-only report link, a time zone
    on the publication date and chapter starts in seconds.

    Rules JSON Schema cannot say alone carry `x-message`, check's words for them; the page's small validator
    reads them (see submit.js).
    """
    schema = copy.deepcopy(Briefing.model_json_schema())
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    for name in LEFT_TO_THE_PRODUCER:
        schema["properties"].pop(name, None)
    schema["required"] = [name for name in schema["required"] if name not in LEFT_TO_THE_PRODUCER]
    schema["$defs"].pop("Audience")
    _walk(schema)
    schema["properties"]["themes"]["items"] = {"enum": list(themes)}
    schema["properties"]["themes"]["uniqueItems"] = True
    review = schema["$defs"]["Review"]["properties"]
    report = _field_type(Review, "report_url")
    review["report_url"]["allOf"] = [
        {"pattern": "^https://", "x-message": _refusal(report, "http://example.org/report.pdf")},
        {"not": {"pattern": "^https://[^/?#]*@"}, "x-message": _refusal(report, "https://name:secret@example.org/")},
    ]
    # RFC 3339 date-times (format "date-time") always carry an offset; the page says which part is wrong.
    review["published"]["pattern"] = r"(Z|[+-]\d\d:\d\d)$"
    start = schema["$defs"]["Chapter"]["properties"]["start"]
    start.update(minimum=0, maximum=MAX_SECONDS, **{"x-message": _refusal(_field_type(Chapter, "start"), "later")})
    return schema


def origin(url: str) -> str:
    """A URL's origin as browsers and Content-Security-Policy sources name it: scheme, host and any port but
    the default."""
    parsed = HttpUrl(url)
    port = "" if parsed.port == {"https": 443, "http": 80}.get(parsed.scheme) else f":{parsed.port}"
    return f"{parsed.scheme}://{parsed.host}{port}"


def upload_address(url: str) -> str:
    """An upload address as `upload_urls` gives it and the page compares it (submit.js, bucketOf): its origin
    and path, without a trailing slash."""
    return origin(url) + urlsplit(url).path.rstrip("/")


def upload_urls(show: Show) -> list[str]:
    """The addresses the submission page may send uploads to: the bucket of show.toml's `[publish] to`, as
    `briefings invite` signs for it (boto3's presigned POST); none for a show published to a folder.

    An invitation is read from the link, so a forged link could name someone else's bucket: the page sends
    an author's recording only to this show's (its Content-Security-Policy allows only their origins).
    """
    parts = urlsplit(show.publish.to)
    bucket = parts.netloc
    if parts.scheme != "s3":
        return []
    if show.publish.endpoint_url:
        # Path-style, as boto3 signs for an endpoint: ENDPOINT/BUCKET (other buckets share the origin).
        return [f"{origin(show.publish.endpoint_url)}/{bucket}"]
    if "." in bucket:  # no virtual-hosted HTTPS address for a name with dots: path-style, on the regional host
        region = show.publish.region or "us-east-1"
        return [
            f"https://s3.amazonaws.com/{bucket}"
            if region == "us-east-1"
            else f"https://s3.{region}.amazonaws.com/{bucket}"
        ]
    return [f"https://{bucket}.s3.amazonaws.com"]


def upload_origins(show: Show) -> list[str]:
    """The origins of `upload_urls`, for the page's Content-Security-Policy (connect-src)."""
    return list(dict.fromkeys(origin(url) for url in upload_urls(show)))
