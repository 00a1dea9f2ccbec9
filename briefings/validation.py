"""Turn schema-library errors into problems an author can act on."""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from briefings.errors import Problem

LineLookup = Callable[[tuple[str | int, ...]], int | None]
Value = TypeVar("Value")

# Characters nobody means to type into a title, a setting or a transcript, refused in briefings, show.toml
# and transcripts alike (tab and line breaks are not among them):
# - what XML 1.0 cannot carry (section 2.2: C0 controls other than tab and line breaks, lone surrogates,
#   U+FFFE, U+FFFF), which would stop the feed being written, and the C1 controls it discourages, which
#   feedparser reads as cp1252 letters;
# - the bidirectional embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069), which make text
#   read differently from what it holds ("Trojan Source", CVE-2021-42574);
# - zero-width spaces and joiners, the word joiner and the byte order mark (U+200B-U+200D, U+2060, U+FEFF),
#   invisible inside words, so search and a reader's copy of the text no longer match (Unicode TR #36).
INVISIBLE = re.compile(
    r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b-\u200d\u202a-\u202e\u2060\u2066-\u2069\ufeff\ud800-\udfff\ufffe\uffff]"
)


class InvalidValueError(ValueError):
    """A schema validator's refusal of a value: what is wrong with it and the fix, kept apart for `explain`."""

    def __init__(self, message: str, fix: str) -> None:
        super().__init__(f"{message} (fix: {fix})")
        self.message, self.fix = message, fix


def visible(value: Value) -> Value:
    """`value` unchanged; ValueError (for a schema validator) if it is text holding an invisible character."""
    if isinstance(value, str) and INVISIBLE.search(value):
        raise InvalidValueError("contains invisible control characters", "retype the text or paste it as plain text")
    return value


def field_path(location: Sequence[str | int]) -> str:
    """Format a schema location as `review.published` or `key_lessons[2]` (1-based, as people count)."""
    text = ""
    for part in location:
        if isinstance(part, int):
            text += f"[{part + 1}]"
        else:
            text += f".{part}" if text else part
    return text


def _known_fields(model: type[BaseModel], location: Sequence[str | int]) -> list[str]:
    """The field names allowed at the parent of `location`, for suggesting what a typo meant."""
    current: Any = model
    for part in location[:-1]:
        if isinstance(part, int) or current is None:
            continue
        field = current.model_fields.get(part)
        annotation = field.annotation if field else None
        current = annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None
    return list(current.model_fields) if current is not None else []


def explain(model: type[BaseModel], error: Any) -> tuple[str, str]:
    """A plain-words message and fix for one pydantic error."""
    kind = error["type"]
    location = error["loc"]
    name = str(location[-1]) if location else "value"
    if kind == "missing":
        return "is missing", f"add `{name}:`"
    if kind == "extra_forbidden":
        close = difflib.get_close_matches(name, _known_fields(model, location), n=1)
        if close:
            return f"unknown field `{name}`", f"did you mean `{close[0]}`?"
        known = ", ".join(_known_fields(model, location))
        return f"unknown field `{name}`", f"remove it; the fields allowed here are: {known}"
    if kind == "string_unicode":  # text holding a lone surrogate, which no file can store
        return "contains invisible control characters", "retype the text or paste it as plain text"
    if kind == "timezone_aware":
        return "has no timezone", "add one, e.g. 2026-03-12T10:00:00+00:00 for 10am UK winter time"
    if "range" in str(error.get("ctx", {}).get("error", "")) or "out of range" in error["msg"]:
        return "is not a date that exists", "check the day and the month (e.g. there is no 30 February)"
    if kind in ("datetime_type", "datetime_parsing", "datetime_from_date_parsing", "date_from_datetime_parsing"):
        return "is not a valid date and time", "write it as YYYY-MM-DDTHH:MM:SS+00:00, e.g. 2026-03-12T10:00:00+00:00"
    if kind in ("date_type", "date_parsing"):
        return "is not a valid date", "write it as YYYY-MM-DD, e.g. 2027-03-12"
    if kind.startswith("url"):
        return "is not a web address", "give the full address starting with https://"
    if kind == "string_too_short":
        return "is empty", "fill it in (the comment above it in the template says what belongs there)"
    if kind == "too_short":
        return "is empty", "add at least one item, each on its own line starting with `- `"
    if kind == "list_type":
        return "must be a list", "write each item on its own line starting with `- `"
    if kind == "bool_parsing" or kind == "bool_type":
        return "must be true or false", "write true or false"
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return "must be a whole number", "write a number such as 12"
    if kind == "too_long" and not isinstance(error.get("input"), str):
        return f"has more than {error['ctx']['max_length']}", "keep only the most important ones"
    if kind in ("too_long", "string_too_long"):
        return f"is longer than {error['ctx']['max_length']} characters", "shorten it"
    if kind in ("literal_error", "enum"):
        return error["msg"].replace("Input should be", "must be"), "use one of the values listed"
    if kind == "value_error":
        refusal = error.get("ctx", {}).get("error")
        if isinstance(refusal, InvalidValueError):
            return refusal.message, refusal.fix
        return str(refusal) if refusal is not None else error["msg"], "see the template"
    expected = error["msg"].replace("Input should be", "must be")
    return expected, "see the template for the expected form"


def problems_from(
    model: type[BaseModel], error: ValidationError, file: str, line_of: LineLookup | None = None
) -> list[Problem]:
    """Every problem in a failed validation, each with its field, line (if known) and fix."""
    items = error.errors()
    # A misspelt field is reported twice by the schema: unknown (`key_lesons`) and missing (`key_lessons`).
    # The unknown one already says which was meant, so the missing one is left out.
    meant: set[tuple[str | int, ...]] = set()
    for item in items:
        if item["type"] == "extra_forbidden":
            location = tuple(item["loc"])
            close = difflib.get_close_matches(str(location[-1]), _known_fields(model, location), n=1)
            meant.update((*location[:-1], name) for name in close)
    found = []
    for item in items:
        location = tuple(item["loc"])
        if item["type"] == "missing" and location in meant:
            continue
        message, fix = explain(model, item)
        found.append(
            Problem(
                file=file,
                field=field_path(location),
                message=message,
                fix=fix,
                line=line_of(location) if line_of else None,
            )
        )
    return found
