"""Show settings from a workspace's show.toml: one place for defaults and their validation."""

from __future__ import annotations

import email.utils
import hashlib
import ipaddress
import re
import tomllib
import unicodedata
from pathlib import Path
from typing import Annotated, Literal
from uuid import UUID

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    HttpUrl,
    ValidationError,
    field_validator,
    model_validator,
)

from briefings.errors import UNPRINTABLE, ShowError, printable, shown
from briefings.validation import InvalidValueError, problems_from, visible

SHOW_FILE = "show.toml"
EPISODES_DIR = "episodes"
DEFAULT_OUTPUT = "feed"
# Private working state kept inside a workspace: the audio cache and the staged build.
STATE_DIR = ".briefings"


def state_name(key: str) -> str:
    """A short file name in the state folder standing for `key` (a destination or a URL): safe whatever it holds."""
    return hashlib.sha256(key.encode()).hexdigest()[:16]


# Apple Podcasts' top-level categories (Apple Podcasts Connect: "Podcast categories").
AppleCategory = Literal[
    "Arts", "Business", "Comedy", "Education", "Fiction", "Government", "Health & Fitness", "History",
    "Kids & Family", "Leisure", "Music", "News", "Religion & Spirituality", "Science",
    "Society & Culture", "Sports", "Technology", "True Crime", "TV & Film",
]  # fmt: skip

# A language tag as RSS 2.0's <language> and Apple expect: an ISO 639 code, optionally with a region
# (en-GB), in the form of a BCP 47 tag (RFC 5646).
LANGUAGE = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _clean(value: str) -> str:
    return visible(value).strip()


def _not_blank(value: str) -> str:
    if not value:
        raise InvalidValueError("is blank", "write the text, or remove the setting to use the default")
    return value


Text = Annotated[str, Field(min_length=1), AfterValidator(_clean), AfterValidator(_not_blank)]
# An address as a mail header takes it: one mailbox, `Name <user@host>` or `user@host`, on one line.
MAILBOX = re.compile(r"^[^<>@\s]+@[^<>@\s]+\.[^<>@\s]+$")


def _mailbox(value: str) -> str:
    name, address = email.utils.parseaddr(value)
    if UNPRINTABLE.search(value) or not MAILBOX.match(address) or (name and "<" not in value):
        raise InvalidValueError(f"{value!r} is not an email address", "e.g. Practice Briefings <briefings@example.org>")
    return value


def _loopback(host: str) -> bool:
    """True for this machine's own addresses (localhost, 127.0.0.0/8, ::1)."""
    try:
        return host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _secure(value: HttpUrl) -> HttpUrl:
    """An https address, or plain http to this machine (a test server, a local relay)."""
    if value.scheme != "https" and not _loopback(value.host or ""):
        raise InvalidValueError(f"{value} is not https", "use the service's https:// address")
    return value


# Podcast Index's ping (https://podcastindex-org.github.io/docs-api/#get-/hub/pubnotify): no key needed.
PODCAST_INDEX_PING = "https://api.podcastindex.org/api/1.0/hub/pubnotify"

# Apple Podcasts: a show's description may be at most 4000 bytes.
MAX_DESCRIPTION_BYTES = 4000
# The main feed's default length: enough for years of briefings, small enough for apps to load quickly.
DEFAULT_MAIN_FEED_ITEMS = 300
# A theme or review-type feed's default length: all a local show has on a theme; a national archive's newest.
DEFAULT_THEME_FEED_ITEMS = 300


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
    email: Text

    @field_validator("email")
    @classmethod
    def _address(cls, value: str) -> str:
        if not EMAIL.match(value):
            raise InvalidValueError("is not an email address", "write one address like podcasts@westmarsh.gov.uk")
        return value


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
    """How the feeds are cut: each keeps its newest briefings (apps download a whole feed at every refresh)."""

    main_feed_items: Annotated[int, Field(ge=1)] = DEFAULT_MAIN_FEED_ITEMS
    theme_feed_items: Annotated[int, Field(ge=1)] = DEFAULT_THEME_FEED_ITEMS


class EmailSettings(Strict):
    """[notify.email]: announce each new briefing to staff lists. The login, if the server wants one, comes
    from BRIEFINGS_SMTP_USER and BRIEFINGS_SMTP_PASSWORD, never from this file."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    smtp_host: Text
    smtp_port: Annotated[int, Field(ge=1, le=65535)] = 587
    # STARTTLS (RFC 3207) before anything is sent; off only for a relay on the same machine.
    starttls: bool = True
    sender: Annotated[str, Field(alias="from"), AfterValidator(_mailbox)]
    to: list[Annotated[str, AfterValidator(_mailbox)]] = Field(min_length=1)
    max_age_days: Annotated[int, Field(ge=0)] = 7

    @model_validator(mode="after")
    def _tls_off_only_locally(self) -> EmailSettings:
        if not self.starttls and not _loopback(self.smtp_host):
            raise InvalidValueError(
                f"starttls = false sends mail in the clear to {self.smtp_host}",
                "leave starttls on, or use a relay on this machine (localhost)",
            )
        return self


class NotifySettings(Strict):
    """[notify]: who hears of a briefing the minute it is published."""

    email: EmailSettings | None = None
    # WebSub hubs (https://www.w3.org/TR/websub/) every public feed names, pinged whenever it changes.
    websub_hubs: list[Annotated[HttpUrl, AfterValidator(_secure)]] = []
    # Podcast Index's pubnotify ping, which Pocket Casts, Podverse, Castamatic and others follow.
    podcast_index: bool = False
    podcast_index_url: Annotated[HttpUrl, AfterValidator(_secure)] = HttpUrl(PODCAST_INDEX_PING)

    @property
    def pings(self) -> bool:
        """Whether a changed public feed is announced to anyone (a hub, Podcast Index)."""
        return bool(self.websub_hubs) or self.podcast_index


class HarvestSettings(Strict):
    """[harvest]: the shows of other partnerships this show gathers into one archive (`briefings harvest`)."""

    # Each source's main feed: https, or plain http to this machine (previews and tests).
    sources: list[Annotated[HttpUrl, AfterValidator(_secure)]] = Field(min_length=1)
    # A source's theme -> one of this show's themes.
    themes: dict[Text, Text] = {}


class Show(Strict):
    """A podcast show: the settings in show.toml."""

    id: UUID
    title: Text
    description: Annotated[
        str, Field(min_length=1, max_length=4000), AfterValidator(_clean), AfterValidator(_not_blank)
    ]
    author: Text
    # The partnership or body that publishes the show, named in every feed for harvesters (default: author).
    publisher: Text | None = None
    owner: Owner
    language: Text = "en-GB"
    category: AppleCategory = "Government"
    explicit: bool = False
    artwork: Text = "artwork.jpg"
    base_url: Annotated[HttpUrl, BeforeValidator(visible)]
    copyright: Annotated[str, AfterValidator(_clean)] = ""
    themes: list[Text] = Field(min_length=1)
    audio: AudioSettings = AudioSettings()
    publish: PublishSettings = PublishSettings()
    feeds: FeedSettings = FeedSettings()
    notify: NotifySettings = NotifySettings()
    harvest: HarvestSettings | None = None

    @field_validator("description")
    @classmethod
    def _fits_apple_limit(cls, value: str) -> str:
        # Apple counts bytes, not characters: 4000 characters of accented text can be 8000 bytes.
        size = len(value.encode("utf-8"))
        if size > MAX_DESCRIPTION_BYTES:
            raise InvalidValueError(
                f"is {size} bytes in UTF-8; Apple Podcasts allows at most {MAX_DESCRIPTION_BYTES}", "shorten it"
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
                raise InvalidValueError(
                    f"`{other}` and `{theme}` would share the feed feeds/{url_slug(theme)}.xml",
                    "merge them or rename one",
                )
        return themes

    @field_validator("language")
    @classmethod
    def _language_code(cls, value: str) -> str:
        if not LANGUAGE.match(value):
            raise InvalidValueError(f"`{value}` is not a language code", "use an ISO 639 code, e.g. en-GB")
        return value

    @field_validator("base_url")
    @classmethod
    def _folder_address(cls, value: HttpUrl) -> HttpUrl:
        # Every published URL is base_url plus a key: a query or fragment would end up in the middle of each,
        # and a user name or password would be published in every one.
        if value.username is not None or value.password is not None:
            raise InvalidValueError("contains a user name or password", "remove the `name:password@` part")
        if value.query is not None or value.fragment is not None:
            raise InvalidValueError(
                "has a `?` query or `#` fragment", "give the address of the folder alone, ending in /"
            )
        # A missing slash would glue base_url and the key together.
        return value if str(value).endswith("/") else HttpUrl(f"{value}/")

    @model_validator(mode="after")
    def _themes_mapped_to_known(self) -> Show:
        for theme in self.harvest.themes.values() if self.harvest else ():
            if theme not in self.themes:
                raise InvalidValueError(
                    f"[harvest.themes] maps to `{theme}`, not one of this show's themes",
                    "add it to themes, or map to one",
                )
        return self

    @property
    def publisher_name(self) -> str:
        """Who publishes the show, as its feeds and catalogue name them: `publisher`, else `author`."""
        return self.publisher or self.author

    @property
    def url(self) -> str:
        """The base URL as text, always ending in a slash."""
        return str(self.base_url)


def load_show(workspace: Path) -> Show:
    """Read and validate `show.toml` in `workspace`."""
    path = workspace / SHOW_FILE
    if not path.is_file():
        raise ShowError(
            f"{shown(path)}: no show.toml here (fix: run `briefings init {printable(str(workspace))}` or point at a workspace with -C DIR)"
        )
    try:
        # Windows editors may start the file with a byte order mark, which TOML does not allow (and is invisible).
        data = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except UnicodeDecodeError:
        raise ShowError(f"{shown(path)}: not UTF-8 text (fix: save it as UTF-8)") from None
    except tomllib.TOMLDecodeError as error:
        raise ShowError(f"{shown(path)}: {error} (fix: correct the TOML syntax at that line)") from None
    except RecursionError:
        # tomllib reads nested arrays and tables by recursion: thousands of levels exhaust Python's stack.
        raise ShowError(
            f"{shown(path)}: values are nested thousands of levels deep "
            "(fix: write each setting as in the template `briefings init` writes)"
        ) from None
    try:
        return Show.model_validate(data)
    except ValidationError as error:
        raise ShowError(*problems_from(Show, error, shown(path))) from None
