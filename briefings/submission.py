"""Load a submission folder (`episodes/<slug>/briefing.yaml` and its files) and validate it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    HttpUrl,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from briefings.config import EPISODES_DIR, Show
from briefings.errors import Problem, shown
from briefings.validation import INVISIBLE, InvalidValueError, LineLookup, problems_from, visible

BRIEFING_FILE = "briefing.yaml"
SLUG_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


def slug_for(name: str) -> str:
    """The folder name (slug) closest to `name`: `Child H` gives `child-h`."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "briefing"


# A briefing.yaml is a page of text; anything bigger is a mistake, and parsing it would waste minutes.
MAX_YAML_BYTES = 256 * 1024
# A briefing nests three levels deep (chapters, a chapter, its start); composing YAML recurses once a level,
# so a file nested thousands deep would exhaust Python's stack.
MAX_DEPTH = 20
# The longest time a chapter can start at, in seconds: a day, far beyond any recording.
MAX_SECONDS = 24 * 3600
MARKUP = re.compile(r"<\s*[a-zA-Z!/]")


def _plain_text(value: str) -> str:
    visible(value)
    if MARKUP.search(value):
        raise InvalidValueError("contains HTML markup", "write plain text; the archive and feed format it")
    # Line breaks and runs of spaces come from YAML wrapping and editors, not meaning: one space each,
    # so every app shows the same text.
    text = " ".join(value.split())
    if not text:
        raise InvalidValueError("is empty", "fill it in")
    return text


Text = Annotated[str, AfterValidator(_plain_text), Field(min_length=1)]


def _known_theme(theme: str, info: ValidationInfo) -> str:
    vocabulary = (info.context or {}).get("themes")
    if vocabulary is not None and theme not in vocabulary:
        meant = next((known for known in vocabulary if known.casefold() == theme.casefold()), None)
        if meant is not None:
            raise InvalidValueError(f"`{theme}` is not one of the show's themes", f"did you mean `{meant}`?")
        raise InvalidValueError(
            f"`{theme}` is not one of the show's themes",
            f"use one of: {', '.join(vocabulary)}; or ask the producer to add it to show.toml",
        )
    return theme


class _Loader(yaml.SafeLoader):
    """YAML as authors write it: dates stay text for the schema to check; a key given twice, a key that is not
    a name, and nesting far deeper than a briefing's are errors."""

    depth = 0

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        self.depth += 1
        try:
            if self.depth > MAX_DEPTH and parent is not None:
                raise _RefusedError(
                    f"is nested more than {MAX_DEPTH} levels deep",
                    "a briefing needs only a few levels: start from the template (`briefings new`)",
                    parent.start_mark.line + 1,
                )
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            line = key_node.start_mark.line + 1
            if not isinstance(key_node, yaml.ScalarNode):
                raise _RefusedError(
                    "a key is a list or a mapping, not a field name", "write each field as `name: value`", line
                )
            key = self.construct_object(key_node, deep=deep)
            # Field names are repeated in messages: one holding a line break or an invisible character would
            # forge or hide part of them.
            if isinstance(key, str) and not key.isprintable():
                raise _RefusedError(
                    "a field name contains invisible control characters", "retype the name as in the template", line
                )
            if key in seen:
                raise _RefusedError(f"`{key}` is given twice", f"keep only one `{key}:`", line)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


# PyYAML turns 2026-02-30 into a crash and 2026-03-12T10:00:00 into a naive datetime; leave dates as text so
# the schema reports them with the field's name and line.
_Loader.yaml_implicit_resolvers = {
    first: [(tag, pattern) for tag, pattern in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


class _RefusedError(Exception):
    """Valid YAML that cannot be a briefing, found while reading it: a message, its fix and the line."""

    def __init__(self, message: str, fix: str, line: int) -> None:
        super().__init__(message)
        self.message, self.fix, self.line = message, fix, line


def _https(url: HttpUrl) -> HttpUrl:
    # Podcast apps and browsers warn about, or block, plain http links from an https page.
    if url.scheme != "https":
        raise InvalidValueError("is not an https:// address", "give the full address starting with https://")
    # The address is published in the feed and on the page: a user name or password in it would be too.
    if url.username is not None or url.password is not None:
        raise InvalidValueError("contains a user name or password", "remove the `name:password@` part")
    return url


def _written_date(value: Any, info: ValidationInfo) -> Any:
    # The schema would read a number as seconds since 1970: a typo, not a date anyone writes.
    if isinstance(value, int | float) and not isinstance(value, bool):
        example = "2026-03-12T10:00:00+00:00" if info.field_name == "published" else "2027-03-12"
        raise InvalidValueError("is a number, not a date", f"write it as in the template, e.g. {example}")
    return value


def _plausible_year(value: datetime) -> datetime:
    # Year 1 or 9999 with a timezone overflows when converted to UTC; podcast apps keep dates as Unix time.
    if not 1970 <= value.year < 2100:
        raise InvalidValueError(
            f"is in the year {value.year}", "give the date the review was published, e.g. 2026-03-12T10:00:00+00:00"
        )
    return value


# A briefing gives a few key lessons for all professionals: at most this many.
MAX_KEY_LESSONS = 7


class ReviewType(Enum):
    """The kinds of review a briefing can describe (Working Together to Safeguard Children 2023)."""

    SCR = "serious case review"
    LCSPR = "local child safeguarding practice review"
    NATIONAL = "national review"
    SAR = "safeguarding adults review"
    DHR = "domestic homicide review"


def _review_type(value: Any) -> Any:
    # Short codes (SCR, LCSPR, CSPR, SAR, DHR) and any capitalisation are allowed.
    if isinstance(value, str):
        text = " ".join(value.lower().split())
        codes = {"scr": "SCR", "lcspr": "LCSPR", "cspr": "LCSPR", "national": "NATIONAL", "sar": "SAR", "dhr": "DHR"}
        return ReviewType[codes[text]] if text in codes else text
    return value


def _seconds(value: Any) -> Any:
    # YAML reads unquoted 1:30 as 90 (base 60), so numbers are already seconds (as publish manifests keep them);
    # the bounds also refuse .inf, .nan and numbers too big for a float.
    if isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value <= MAX_SECONDS:
        return float(value)
    if isinstance(value, str) and re.fullmatch(r"(\d{1,2}:)?\d{1,2}:\d{2}(\.\d+)?", value.strip()):
        parts = [float(part) for part in value.strip().split(":")]
        if any(part >= 60 for part in parts[1:]):
            raise InvalidValueError("has minutes or seconds of 60 or more", "write mm:ss, e.g. 04:30")
        total = 0.0
        for part in parts:
            total = total * 60 + part
        return total
    raise InvalidValueError("is not a time in the recording", 'write mm:ss or hh:mm:ss, e.g. "04:30"')


class Strict(BaseModel):
    """Frozen records that reject unknown keys, which are usually typos."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Audience(Enum):
    """Who a briefing is for: everyone (the public feeds, pages and catalogue) or the partnership's staff only
    (their private feeds, never a public file)."""

    PUBLIC = "public"
    STAFF = "staff"


def _audience(value: Any) -> Any:
    # `Staff` and ` staff ` mean staff: any other word is refused by the enum, with its choices.
    return value.strip().lower() if isinstance(value, str) else value


class Review(Strict):
    """The review the briefing is about."""

    type: Annotated[ReviewType, BeforeValidator(_review_type)]
    subject: Text
    partnership: Text
    region: Text
    report_url: Annotated[HttpUrl, BeforeValidator(visible), AfterValidator(_https)]
    published: Annotated[AwareDatetime, BeforeValidator(_written_date), AfterValidator(_plausible_year)]


class Author(Strict):
    """Who recorded the briefing."""

    name: Text
    role: Text


class Chapter(Strict):
    """A chapter of the recording, usually one per key lesson."""

    start: Annotated[float, BeforeValidator(_seconds)]
    title: Text


class Briefing(Strict):
    """The metadata of one submission, as written in briefing.yaml."""

    title: Annotated[Text, Field(max_length=200)]
    summary: Annotated[Text, Field(max_length=2000)]
    review: Review
    author: Author
    key_lessons: Annotated[
        list[Annotated[Text, Field(max_length=500)]], Field(min_length=1, max_length=MAX_KEY_LESSONS)
    ]
    themes: Annotated[list[Annotated[Text, AfterValidator(_known_theme)]], Field(min_length=1)]
    chapters: list[Chapter] = []
    recording: Text
    transcript: Text | None = None
    explicit: bool = False
    # Apple's itunes:episode is a positive whole number; more digits than a briefing series could reach is a typo.
    episode: Annotated[int, Field(ge=1, le=99999)] | None = None
    artwork: Text | None = None
    withdraw_after: Annotated[date, BeforeValidator(_written_date)] | None = None
    audience: Annotated[Audience, BeforeValidator(_audience)] = Audience.PUBLIC

    @property
    def staff_only(self) -> bool:
        """True for a briefing only the partnership's staff may hear (`audience: staff`)."""
        return self.audience is Audience.STAFF

    @field_validator("chapters")
    @classmethod
    def _ascending(cls, chapters: list[Chapter]) -> list[Chapter]:
        starts = [chapter.start for chapter in chapters]
        if starts != sorted(starts) or len(set(starts)) != len(starts):
            raise InvalidValueError("are not in order of start time", "list chapters from the start of the recording")
        return chapters

    @field_validator("withdraw_after")
    @classmethod
    def _after_publication(cls, value: date | None, info: ValidationInfo) -> date | None:
        review = info.data.get("review")
        if value is not None and review is not None and value <= review.published.date():
            raise InvalidValueError("is on or before the publication date", "give a later date, or remove it")
        return value


@dataclass(frozen=True)
class Submission:
    """One episode folder: its briefing if it loaded, and every problem found."""

    slug: str
    folder: Path
    briefing: Briefing | None
    problems: tuple[Problem, ...] = field(default=())
    # Files briefing.yaml names that exist inside the folder, known even when other fields are
    # invalid, so a check can report on the recording and transcript at the same time.
    files: dict[str, Path] = field(default_factory=dict)

    @property
    def valid(self) -> bool:
        """True when the submission has no errors (warnings allowed)."""
        return self.briefing is not None and not any(p.severity.value == "error" for p in self.problems)

    @property
    def recording(self) -> Path:
        """The author's recording."""
        return self.files["recording"]

    @property
    def transcript(self) -> Path | None:
        """The transcript, if the briefing names one."""
        return self.files.get("transcript")

    def to_dict(self) -> dict[str, Any]:
        """As `briefings check --json` prints it."""
        return {"slug": self.slug, "valid": self.valid, "problems": [problem.to_dict() for problem in self.problems]}


def line_index(text: str) -> LineLookup:
    """Map a schema location to the line of briefing.yaml it came from."""
    root = yaml.compose(text, Loader=_Loader)

    def line_of(location: tuple[str | int, ...]) -> int | None:
        node = root
        if node is None:
            return None
        line = node.start_mark.line + 1
        for part in location:
            if isinstance(node, yaml.MappingNode):
                match = next((pair for pair in node.value if pair[0].value == part), None)
                if match is None:
                    break
                line, node = match[0].start_mark.line + 1, match[1]
            elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
                node = node.value[part]
                line = node.start_mark.line + 1
            else:
                break
        return line

    return line_of


def _file_problem(folder: Path, slug: str, field_name: str, name: str) -> Problem | None:
    """Check a file named in the briefing stays inside its episode folder and exists."""
    file = shown(folder / BRIEFING_FILE)
    target = folder / name
    if Path(name).is_absolute() or ".." in Path(name).parts or not target.resolve().is_relative_to(folder.resolve()):
        return Problem(
            file,
            f"`{name}` is outside the episode folder",
            f"put the file in episodes/{slug}/ and give just its name",
            field_name,
        )
    if not target.is_file():
        return Problem(
            file, f"`{name}` does not exist", f"copy the file into episodes/{slug}/ or correct the name", field_name
        )
    return None


def load_submission(folder: Path, show: Show) -> Submission:
    """Load and validate one episode folder; never raises for bad content."""
    slug = folder.name
    path = folder / BRIEFING_FILE
    file = shown(path)
    if folder.is_symlink():
        problem = Problem(shown(folder), "is a link to another folder", "move the folder itself into episodes/")
        return Submission(slug, folder, None, (problem,))
    if not SLUG_PATTERN.match(slug):
        fix = f"rename the folder to `{slug_for(slug)}`"
        problem = Problem(shown(folder), "folder name must be lowercase letters, digits and hyphens", fix)
        return Submission(slug, folder, None, (problem,))
    if path.is_symlink() and not path.resolve().is_relative_to(folder.resolve()):
        problem = Problem(
            file, "is a link to a file outside the episode folder", f"copy the file itself into episodes/{slug}/"
        )
        return Submission(slug, folder, None, (problem,))
    if not path.is_file():
        problem = Problem(
            file, "no briefing.yaml in this episode folder", f"run `briefings new {slug} --recording FILE`"
        )
        return Submission(slug, folder, None, (problem,))
    size = path.stat().st_size
    if size > MAX_YAML_BYTES:
        problem = Problem(
            file,
            f"is {f'{size / 2**20:.0f} MiB' if size >= 2**20 else f'{size // 1024} KiB'}, far too big for a briefing",
            "keep only the briefing's metadata in it",
        )
        return Submission(slug, folder, None, (problem,))
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        problem = Problem(file, "is not UTF-8 text", "save it as UTF-8 (in most editors: Save As, encoding UTF-8)")
        return Submission(slug, folder, None, (problem,))
    try:
        data = yaml.load(text, Loader=_Loader)  # a SafeLoader: builds only plain data
    except _RefusedError as error:
        problem = Problem(file, error.message, error.fix, line=error.line)
        return Submission(slug, folder, None, (problem,))
    except yaml.reader.ReaderError as error:
        problem = Problem(
            file,
            "contains invisible control characters",
            "retype the text or paste it as plain text",
            line=text.count("\n", 0, error.position) + 1,
        )
        return Submission(slug, folder, None, (problem,))
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        reason = getattr(error, "problem", None) or "invalid YAML"
        problem = Problem(
            file,
            f"YAML syntax error: {reason}",
            "check the indentation and quote text containing a colon",
            line=mark.line + 1 if mark is not None else None,
        )
        return Submission(slug, folder, None, (problem,))
    if not isinstance(data, dict):
        problem = Problem(file, "does not describe a briefing", "start from the template: run `briefings new`")
        return Submission(slug, folder, None, (problem,))
    problems: list[Problem] = []
    briefing: Briefing | None = None
    try:
        briefing = Briefing.model_validate(data, context={"themes": show.themes})
    except ValidationError as error:
        problems += problems_from(Briefing, error, file, line_index(text))
    files = {}
    for field_name in ("recording", "transcript", "artwork"):
        name = data.get(field_name)
        # A name with an invisible character is already reported by the schema, and could not be a path.
        if isinstance(name, str) and name.strip() and not INVISIBLE.search(name):
            missing = _file_problem(folder, slug, field_name, name.strip())
            if missing is None:
                files[field_name] = folder / name.strip()
            else:
                problems.append(missing)
    return Submission(slug, folder, briefing if not problems else None, tuple(problems), files)


def episode_folders(workspace: Path) -> list[Path]:
    """Every episode folder in the workspace, sorted by slug."""
    episodes = workspace / EPISODES_DIR
    if not episodes.is_dir():
        return []
    return sorted(p for p in episodes.iterdir() if p.is_dir() and not p.name.startswith("."))


def load_submissions(workspace: Path, show: Show) -> list[Submission]:
    """Every episode folder in the workspace, loaded, sorted by slug."""
    return [load_submission(folder, show) for folder in episode_folders(workspace)]
