"""Load a submission folder (`episodes/<slug>/briefing.yaml` and its files) and validate it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
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
from briefings.validation import LineLookup, problems_from

BRIEFING_FILE = "briefing.yaml"
SLUG_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
# A briefing.yaml is a page of text; anything bigger is a mistake, and parsing it would waste minutes.
MAX_YAML_BYTES = 256 * 1024
# Characters XML 1.0 cannot carry (the feed would be unreadable), other than tab and newlines, and the C1
# controls XML 1.0 discourages (section 2.2), which feedparser turns into other characters.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff]")
MARKUP = re.compile(r"<\s*[a-zA-Z!/]")


def _plain_text(value: str) -> str:
    if CONTROL_CHARACTERS.search(value):
        raise ValueError("contains invisible control characters (fix: retype the text or paste it as plain text)")
    if MARKUP.search(value):
        raise ValueError("contains HTML markup (fix: write plain text; the archive and feed format it)")
    # Line breaks and runs of spaces come from YAML wrapping and editors, not meaning: one space each,
    # so every app shows the same text.
    text = " ".join(value.split())
    if not text:
        raise ValueError("is empty (fix: fill it in)")
    return text


Text = Annotated[str, AfterValidator(_plain_text), Field(min_length=1)]


def _known_theme(theme: str, info: ValidationInfo) -> str:
    vocabulary = (info.context or {}).get("themes")
    if vocabulary is not None and theme not in vocabulary:
        raise ValueError(
            f"`{theme}` is not one of the show's themes "
            f"(fix: use one of: {', '.join(vocabulary)}; or ask the producer to add it to show.toml)"
        )
    return theme


class _Loader(yaml.SafeLoader):
    """YAML as authors write it: dates stay text for the schema to check, and a key given twice is an error."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise _DuplicateKeyError(str(key), key_node.start_mark.line + 1)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


# PyYAML turns 2026-02-30 into a crash and 2026-03-12T10:00:00 into a naive datetime; leave dates as text so
# the schema reports them with the field's name and line.
_Loader.yaml_implicit_resolvers = {
    first: [(tag, pattern) for tag, pattern in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


class _DuplicateKeyError(Exception):
    def __init__(self, key: str, line: int) -> None:
        super().__init__(key)
        self.key, self.line = key, line


def _https(url: HttpUrl) -> HttpUrl:
    # Podcast apps and browsers warn about, or block, plain http links from an https page.
    if url.scheme != "https":
        raise ValueError("is not an https:// address (fix: give the full address starting with https://)")
    return url


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
    # YAML reads unquoted 1:30 as 90 (base 60), so numbers are already seconds (as publish manifests keep them).
    if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0:
        return float(value)
    if isinstance(value, str) and re.fullmatch(r"(\d{1,2}:)?\d{1,2}:\d{2}(\.\d+)?", value.strip()):
        parts = [float(part) for part in value.strip().split(":")]
        if any(part >= 60 for part in parts[1:]):
            raise ValueError("has minutes or seconds of 60 or more (fix: write mm:ss, e.g. 04:30)")
        total = 0.0
        for part in parts:
            total = total * 60 + part
        return total
    raise ValueError('is not a time in the recording (fix: write mm:ss or hh:mm:ss, e.g. "04:30")')


class Strict(BaseModel):
    """Frozen records that reject unknown keys, which are usually typos."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Review(Strict):
    """The review the briefing is about."""

    type: Annotated[ReviewType, BeforeValidator(_review_type)]
    subject: Text
    partnership: Text
    region: Text
    report_url: Annotated[HttpUrl, AfterValidator(_https)]
    published: AwareDatetime


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
    key_lessons: Annotated[list[Annotated[Text, Field(max_length=500)]], Field(min_length=1, max_length=7)]
    themes: Annotated[list[Annotated[Text, AfterValidator(_known_theme)]], Field(min_length=1)]
    chapters: list[Chapter] = []
    recording: Text
    transcript: Text | None = None
    explicit: bool = False
    episode: Annotated[int, Field(ge=1)] | None = None
    artwork: Text | None = None
    withdraw_after: date | None = None

    @field_validator("chapters")
    @classmethod
    def _ascending(cls, chapters: list[Chapter]) -> list[Chapter]:
        starts = [chapter.start for chapter in chapters]
        if starts != sorted(starts) or len(set(starts)) != len(starts):
            raise ValueError("are not in order of start time (fix: list chapters from the start of the recording)")
        return chapters

    @field_validator("withdraw_after")
    @classmethod
    def _after_publication(cls, value: date | None, info: ValidationInfo) -> date | None:
        review = info.data.get("review")
        if value is not None and review is not None and value <= review.published.date():
            raise ValueError("is on or before the publication date (fix: give a later date, or remove it)")
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


def line_index(text: str) -> LineLookup:
    """Map a schema location to the line of briefing.yaml it came from."""
    root = yaml.compose(text, Loader=yaml.SafeLoader)

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
    if not SLUG_PATTERN.match(slug):
        fix = f"rename the folder to `{re.sub(r'[^a-z0-9]+', '-', slug.lower()).strip('-') or 'briefing'}`"
        problem = Problem(shown(folder), "folder name must be lowercase letters, digits and hyphens", fix)
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
    except _DuplicateKeyError as error:
        problem = Problem(file, f"`{error.key}` is given twice", f"keep only one `{error.key}:`", line=error.line)
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
        if isinstance(name, str) and name.strip():
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
