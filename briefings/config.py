"""Show settings from a workspace's show.toml: one place for defaults and their validation."""

from __future__ import annotations

import hashlib
import re
import tomllib
import unicodedata
from pathlib import Path
from typing import Annotated, Literal
from uuid import UUID

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, HttpUrl, ValidationError, field_validator

from briefings.errors import ShowError, shown
from briefings.validation import problems_from

SHOW_FILE = "show.toml"
EPISODES_DIR = "episodes"
DEFAULT_OUTPUT = "feed"
# Private working state kept inside a workspace: the audio cache and the staged build.
STATE_DIR = ".briefings"

# Apple Podcasts' top-level categories (Apple Podcasts Connect: "Podcast categories").
AppleCategory = Literal[
    "Arts", "Business", "Comedy", "Education", "Fiction", "Government", "Health & Fitness", "History",
    "Kids & Family", "Leisure", "Music", "News", "Religion & Spirituality", "Science",
    "Society & Culture", "Sports", "Technology", "True Crime", "TV & Film",
]  # fmt: skip

# Characters XML 1.0 cannot carry (section 2.2), which would stop the feed being written at all, and the
# C1 controls it discourages, which feedparser turns into other characters (it reads them as cp1252).
XML_INVALID = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


def _clean(value: str) -> str:
    if XML_INVALID.search(value):
        raise ValueError("contains an invisible control character (fix: delete it and retype the text)")
    return value.strip()


def _not_blank(value: str) -> str:
    if not value:
        raise ValueError("is blank (fix: write the text, or remove the setting to use the default)")
    return value


Text = Annotated[str, Field(min_length=1), AfterValidator(_clean), AfterValidator(_not_blank)]
# RSS 2.0 `language`: a language tag as HTML's `lang` takes it (an ISO 639 code, then an optional region).
LANGUAGE_CODE = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$")


def _language_code(value: str) -> str:
    if not LANGUAGE_CODE.match(value):
        raise ValueError(f"`{value}` is not a language code (fix: use an ISO 639 code such as en-GB)")
    return value


# Apple Podcasts: a show's description may be at most 4000 bytes.
MAX_DESCRIPTION_BYTES = 4000
# The main feed's default length: enough for years of briefings, small enough for apps to load quickly.
DEFAULT_MAIN_FEED_ITEMS = 300


def url_slug(text: str) -> str:
    """A name as an ASCII URL path segment: `Domestic abuse` -> `domestic-abuse` (Apple: ASCII URLs only)."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    # A name with no Latin letters or digits still needs a stable address: derive one from the name.
    return slug or "theme-" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:8]


class Strict(BaseModel):
    """Frozen records that reject unknown keys, which are usually typos."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Owner(Strict):
    """Who Apple and other directories contact about the show."""

    name: Text
    email: Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]


class AudioSettings(Strict):
    """Targets for the processed audio; defaults follow Apple's and AES TD1004's podcast loudness."""

    target_lufs: Annotated[float, Field(ge=-30, le=-10)] = -16.0
    true_peak: Annotated[float, Field(ge=-9, le=0)] = -1.0
    # mp3 plays everywhere; aac (in an .m4a file) sounds better at the same bit rate and every major
    # podcast app plays it, but some older players and car stereos do not.
    format: Literal["mp3", "aac"] = "mp3"
    bitrate: Annotated[int, Field(ge=32, le=320)] = 96
    sample_rate: Literal[44100, 48000] = 44100
    channels: Literal[1, 2] = 1
    # Leading and trailing silence (quieter than `silence_threshold` dBFS for at least half a second) is cut,
    # keeping `silence_padding` seconds so speech does not start or stop abruptly.
    trim_silence: bool = True
    silence_threshold: Annotated[float, Field(ge=-90, le=-20)] = -50.0
    silence_padding: Annotated[float, Field(ge=0, le=5)] = 0.25
    # Optional stings played before and after every briefing, relative to the workspace; each is brought
    # to `target_lufs` like the recording, and chapter times move by the intro's length.
    intro: Text | None = None
    outro: Text | None = None


class PublishSettings(Strict):
    """Where `briefings publish` writes by default, and how to reach an S3-compatible store."""

    # A folder (relative to the workspace) or s3://BUCKET/PREFIX.
    to: Text = DEFAULT_OUTPUT
    # For S3 destinations; AWS_ENDPOINT_URL, AWS_PROFILE and AWS_REGION override these, and flags override all.
    endpoint_url: Annotated[str, Field(pattern=r"^https?://")] | None = None
    region: Text | None = None
    profile: Text | None = None
    acl: Literal["public-read"] | None = None


class FeedSettings(Strict):
    """How the feeds are cut: the main feed keeps the newest briefings; theme and review-type feeds keep all."""

    main_feed_items: Annotated[int, Field(ge=1)] = DEFAULT_MAIN_FEED_ITEMS


class Show(Strict):
    """A podcast show: the settings in show.toml."""

    id: UUID
    title: Text
    description: Annotated[
        str, Field(min_length=1, max_length=4000), AfterValidator(_clean), AfterValidator(_not_blank)
    ]
    author: Text
    owner: Owner
    language: Annotated[Text, AfterValidator(_language_code)] = "en-GB"
    category: AppleCategory = "Government"
    explicit: bool = False
    artwork: Text = "artwork.jpg"
    base_url: HttpUrl
    copyright: Annotated[str, AfterValidator(_clean)] = ""
    themes: list[Text] = Field(min_length=1)
    audio: AudioSettings = AudioSettings()
    publish: PublishSettings = PublishSettings()
    feeds: FeedSettings = FeedSettings()

    @field_validator("description")
    @classmethod
    def _fits_apple_limit(cls, value: str) -> str:
        # Apple counts bytes, not characters: 4000 characters of accented text can be 8000 bytes.
        size = len(value.encode("utf-8"))
        if size > MAX_DESCRIPTION_BYTES:
            raise ValueError(
                f"is {size} bytes in UTF-8; Apple Podcasts allows at most {MAX_DESCRIPTION_BYTES} (fix: shorten it)"
            )
        return value

    @field_validator("themes")
    @classmethod
    def _distinct_feed_addresses(cls, themes: list[str]) -> list[str]:
        # Each theme gets a feed at feeds/<slug>.xml; two themes with one slug would share a feed.
        seen: dict[str, str] = {}
        for theme in themes:
            other = seen.setdefault(url_slug(theme), theme)
            if other != theme:
                raise ValueError(
                    f"`{other}` and `{theme}` would share the feed feeds/{url_slug(theme)}.xml "
                    "(fix: merge them or rename one)"
                )
        return themes

    @field_validator("base_url")
    @classmethod
    def _ends_with_slash(cls, value: HttpUrl) -> HttpUrl:
        # Every published URL is base_url plus a key; a missing slash would glue them together.
        return value if str(value).endswith("/") else HttpUrl(f"{value}/")

    @property
    def url(self) -> str:
        """The base URL as text, always ending in a slash."""
        return str(self.base_url)


def load_show(workspace: Path) -> Show:
    """Read and validate `show.toml` in `workspace`."""
    path = workspace / SHOW_FILE
    if not path.is_file():
        raise ShowError(
            f"{shown(path)}: no show.toml here (fix: run `briefings init {workspace}` or point at a workspace with -C DIR)"
        )
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise ShowError(f"{shown(path)}: not UTF-8 text (fix: save it as UTF-8)") from None
    except tomllib.TOMLDecodeError as error:
        raise ShowError(f"{shown(path)}: {error} (fix: correct the TOML syntax at that line)") from None
    try:
        return Show.model_validate(data)
    except ValidationError as error:
        raise ShowError("\n".join(str(p) for p in problems_from(Show, error, shown(path)))) from None
