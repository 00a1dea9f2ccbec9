"""Show settings from a workspace's show.toml: one place for defaults and their validation."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Annotated, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, ValidationError, field_validator

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

Text = Annotated[str, Field(min_length=1)]


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
    """Where `briefings publish` writes by default."""

    to: Text = DEFAULT_OUTPUT


class Show(Strict):
    """A podcast show: the settings in show.toml."""

    id: UUID
    title: Text
    description: Annotated[str, Field(min_length=1, max_length=4000)]
    author: Text
    owner: Owner
    language: Text = "en-GB"
    category: AppleCategory = "Government"
    explicit: bool = False
    artwork: Text = "artwork.jpg"
    base_url: HttpUrl
    copyright: str = ""
    themes: list[Text] = Field(min_length=1)
    audio: AudioSettings = AudioSettings()
    publish: PublishSettings = PublishSettings()

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
