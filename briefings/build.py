"""The pipeline: workspace in, every published file staged on disk out (nothing is published here)."""

from __future__ import annotations

import hashlib
import json
import shutil
import threading
import uuid
from collections.abc import Callable, Collection, Mapping
from dataclasses import asdict, dataclass
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

from briefings import audio
from briefings.check import check_all, check_show, guarded
from briefings.config import EPISODES_DIR, STATE_DIR, AudioSettings, Show
from briefings.episode import Episode, Timeline, chapter_list, episode_guid, from_record
from briefings.errors import AudioError, BriefingsError, Problem, Severity, shown
from briefings.feed import chapters_json, render_feeds
from briefings.inputs import file_sha256
from briefings.progress import Tracker
from briefings.runner import Runner, each
from briefings.site import render_site
from briefings.submission import Submission, episode_folders
from briefings.tagging import MEDIA_TYPES, Tags, duration, tag
from briefings.transcript import TRANSCRIPT_TYPES, TranscriptError, html_transcript

FEED_KEY = "feed.xml"
# Bump when the audio processing changes, so cached encodes are redone.
# 2: silence trimming, stings, limiter calibration, verification by a loopback decoder.
AUDIO_PIPELINE_VERSION = 2
CONTENT_TYPES = {
    **MEDIA_TYPES,
    ".xml": "application/rss+xml; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".json": "application/json",
    ".vtt": "text/vtt; charset=utf-8",
    ".srt": "application/x-subrip",
    ".txt": "text/plain; charset=utf-8",
    ".jpg": "image/jpeg",
    ".png": "image/png",
    ".opml": "text/x-opml; charset=utf-8",
    ".svg": "image/svg+xml",
}
# Media never changes under a key (its name carries its hash); everything else may change at any publish.
IMMUTABLE = "public, max-age=31536000, immutable"
SHORT_LIVED = "public, max-age=300"
# Upload order: media and side files, then pages, then feeds, so nothing published names a missing object.
MEDIA, PAGES, FEEDS = 0, 1, 2

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Output:
    """One file to publish: where it is staged and how to serve it."""

    key: str
    path: Path
    sha256: str
    size: int
    stage: int

    @property
    def content_type(self) -> str:
        """The MIME type to serve it with."""
        return CONTENT_TYPES.get(Path(self.key).suffix, "application/octet-stream")

    @property
    def cache_control(self) -> str:
        """How long browsers and CDNs may keep it."""
        return IMMUTABLE if self.key.startswith("media/") or self.key.startswith("artwork-") else SHORT_LIVED


@dataclass(frozen=True)
class Build:
    """Everything a build produced and found."""

    show: Show
    episodes: tuple[Episode, ...]
    outputs: tuple[Output, ...]
    problems: tuple[Problem, ...]
    embargoed: tuple[tuple[str, datetime], ...]
    withdrawn: tuple[str, ...]
    encoded: int
    # Published briefings missing from this workspace or refused: rendered from their last published
    # record, their files left as they are.
    kept: tuple[str, ...] = ()
    # Warnings about recordings encoded by this build (also among `problems`): news once, not on every run.
    encode_warnings: tuple[Problem, ...] = ()

    @property
    def retained(self) -> tuple[str, ...]:
        """Keys of published files the kept briefings still use."""
        kept = set(self.kept)
        return tuple(key for episode in self.episodes if episode.slug in kept for key in episode.files)


def _written_sha256(path: Path) -> str:
    """SHA-256 of a file this build just wrote: read afresh, as a file rewritten within the same clock tick
    (file times are that coarse) can look unchanged to `file_sha256`, which is for inputs."""
    with path.open("rb") as data:
        return hashlib.file_digest(data, "sha256").hexdigest()


def audio_cache_key(recording: Path, settings: AudioSettings, stings: audio.Stings = audio.NO_STINGS) -> str:
    """Cache key for a processed recording: its content and everything that changes the encode."""
    recipe = json.dumps(
        {
            "pipeline": AUDIO_PIPELINE_VERSION,
            # MP3 was the only format before `format` existed: leaving it out keeps those keys, so an
            # upgrade re-encodes nothing.
            **settings.model_dump(exclude={"format"} if settings.format == "mp3" else None),
            # The stings' content, not their names: replacing intro.wav must re-encode every briefing.
            "stings": [file_sha256(path) for path in stings.files],
        },
        sort_keys=True,
    )
    return hashlib.sha256(f"{file_sha256(recording)}:{recipe}".encode()).hexdigest()


def _loudness(data: dict[str, Any]) -> audio.Loudness:
    return audio.Loudness(data["integrated"], data["true_peak"], data["peak_unit"])


@dataclass(frozen=True)
class Processed:
    """A recording's normalised MP3, how it was made, and whether it was encoded just now."""

    path: Path
    encoded: audio.Encoded
    fresh: bool

    @property
    def timeline(self) -> Timeline:
        """Where the recording's moments land in the MP3."""
        kept = self.encoded.duration - self.encoded.intro
        return Timeline(self.encoded.trimmed_start, self.encoded.intro, kept if kept > 0 else None)


def staging(workspace: Path) -> Path:
    """The folder a build stages the complete site in."""
    return workspace / STATE_DIR / "build"


class Stager:
    """Writes build outputs into the staging folder and records them."""

    def __init__(self, root: Path) -> None:
        if root.exists():
            shutil.rmtree(root)
        root.mkdir(parents=True)
        self.root = root
        self.outputs: list[Output] = []

    def add_bytes(self, key: str, data: bytes, stage: int) -> Output:
        """Stage `data` under `key`."""
        path = self.root / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        return self._record(key, path, hashlib.sha256(data).hexdigest(), stage)

    def add_file(self, key: str, source: Path, stage: int) -> Output:
        """Stage a copy of `source` under `key`."""
        path = self.root / key
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, path)
        return self._record(key, path, _written_sha256(path), stage)

    def discard(self, keys: Collection[str]) -> None:
        """Remove what was staged under `keys` (a briefing refused after some of its files were staged)."""
        for output in self.outputs:
            if output.key in keys:
                output.path.unlink(missing_ok=True)
        self.outputs = [output for output in self.outputs if output.key not in keys]

    def _record(self, key: str, path: Path, sha256: str, stage: int) -> Output:
        output = Output(key, path, sha256, path.stat().st_size, stage)
        self.outputs.append(output)
        return output


class AudioCache:
    """Processed recordings kept between builds, so an unchanged recording is never encoded twice."""

    def __init__(
        self,
        folder: Path,
        runner: Runner,
        settings: AudioSettings,
        stings: audio.Stings = audio.NO_STINGS,
        analyses: Path | None = None,
    ) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.folder, self.runner, self.settings, self.stings = folder, runner, settings, stings
        # Where `check` kept each recording's analysis: processing reads it instead of decoding once more.
        self.analyses = analyses
        self._locks: dict[str, threading.Lock] = {}
        self._locks_lock = threading.Lock()

    def processed(self, recording: Path) -> tuple[Path, bool]:
        """The normalised MP3 for `recording`, and whether it had to be encoded now."""
        result = self.process(recording)
        return result.path, result.fresh

    def process(self, recording: Path, progress: audio.Progress | None = None) -> Processed:
        """The normalised MP3 for `recording` with what processing found, encoding it if not cached."""
        key = audio_cache_key(recording, self.settings, self.stings)
        # Briefings sharing one recording share one cache entry: encode it once, not once each at the same time.
        with self._locks_lock:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            return self._process(recording, key, progress)

    def _process(self, recording: Path, key: str, progress: audio.Progress | None) -> Processed:
        extension = audio.EXTENSIONS[self.settings.format]
        cached = self.folder / f"{key}{extension}"
        facts = self.folder / f"{key}.json"
        if cached.is_file() and facts.is_file():
            data = json.loads(facts.read_text())
            encoded = audio.Encoded(
                **data
                | {"source": _loudness(data["source"]), "result": _loudness(data["result"])}
                # Only a fresh encode reports its warnings; entries cached before they were problems were
                # text, and are left out.
                | {"warnings": tuple(Problem.from_dict(item) for item in data["warnings"] if isinstance(item, dict))}
            )
            return Processed(cached, encoded, False)
        # A name of its own per encode: two briefings may share a recording and be encoded at once.
        partial = self.folder / f"{key}.{uuid.uuid4().hex[:8]}.partial{extension}"
        try:
            analysis = None
            if self.analyses is not None:
                analysis = audio.analyse_cached(self.runner, recording, self.settings, self.analyses)
            encoded = audio.normalise(self.runner, recording, partial, self.settings, self.stings, progress, analysis)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        facts.write_text(json.dumps(asdict(encoded) | {"warnings": [item.to_dict() for item in encoded.warnings]}))
        partial.replace(cached)
        return Processed(cached, encoded, True)


def _stage_episode(
    stager: Stager,
    runner: Runner,
    show: Show,
    submission: Submission,
    processed: Path,
    artwork: tuple[bytes, str],
    guid: str,
    transcript_html: bytes | None = None,
    timeline: Timeline | None = None,
) -> Episode:
    briefing = submission.briefing
    assert briefing is not None
    slug = submission.slug
    page_key = f"briefings/{slug}/index.html"
    tagged = stager.root / f".tagging-{slug}{processed.suffix}"
    tags = Tags(
        title=briefing.title,
        artist=briefing.author.name,
        album=show.title,
        year=briefing.review.published.year,
        comment=briefing.summary,
        url=show.url + page_key,
        artwork=artwork[0],
        artwork_mime=artwork[1],
        chapters=tuple(chapter_list(briefing, timeline or Timeline())),
    )
    tag(processed, tagged, tags, runner)
    digest = _written_sha256(tagged)
    media = stager.add_file(f"media/{slug}-{digest[:8]}{processed.suffix}", tagged, MEDIA)
    length = duration(tagged)
    tagged.unlink()
    chapters_key = transcript_key = transcript_type = None
    if briefing.chapters:
        chapters_key = f"briefings/{slug}/chapters.json"
    transcript = submission.transcript
    if transcript is not None:
        transcript_type = TRANSCRIPT_TYPES.get(transcript.suffix.lower(), "text/plain")
        transcript_key = f"briefings/{slug}/transcript{transcript.suffix.lower()}"
        stager.add_file(transcript_key, transcript, MEDIA)
    transcript_html_key = None
    if transcript_html is not None:
        transcript_html_key = f"briefings/{slug}/transcript.html"
        stager.add_bytes(transcript_html_key, transcript_html, MEDIA)
    episode = Episode(
        slug,
        guid,
        briefing,
        media.key,
        media.size,
        length,
        page_key,
        chapters_key,
        transcript_key,
        transcript_type,
        transcript_html_key,
        timeline or Timeline(),
    )
    if chapters_key:
        stager.add_bytes(chapters_key, chapters_json(episode), MEDIA)
    return episode


def _render_episode(
    stager: Stager,
    runner: Runner,
    show: Show,
    submission: Submission,
    result: Processed,
    artwork: tuple[bytes, str],
    guids: Mapping[str, str] | None,
) -> tuple[Episode, str | None]:
    """Stage one briefing's tagged audio, side files and transcript page; its episode and transcript text."""
    transcript = submission.transcript
    html = text = None
    if transcript is not None and submission.briefing is not None:
        # Read before staging anything, so a refused briefing leaves no file behind.
        html = html_transcript(transcript, submission.briefing.title, show.language)
        text = transcript.read_text(encoding="utf-8", errors="replace")
    # A GUID, once published, never changes (apps would list the briefing twice): the destination's
    # record wins over the one derived from the show id and slug.
    guid = (guids or {}).get(submission.slug) or episode_guid(show.id, submission.slug)
    episode = _stage_episode(stager, runner, show, submission, result.path, artwork, guid, html, result.timeline)
    return episode, text


def build(
    workspace: Path,
    runner: Runner,
    now: datetime,
    jobs: int = 1,
    progress: Progress | None = None,
    exclude: Collection[str] = (),
    guids: Mapping[str, str] | None = None,
    published: Mapping[str, Mapping[str, Any]] | None = None,
    tracker: Tracker | None = None,
    read_published: Callable[[str], bytes | None] | None = None,
) -> Build:
    """Process every ready submission in `workspace` and stage the complete site for publishing.

    Slugs in `exclude` (briefings taken down with `briefings withdraw`) are left out and listed as withdrawn;
    `guids` are the GUIDs already published, which a briefing keeps for life. `published` are the episodes
    the destination's manifest records: one this build cannot publish (its folder is not here, it was
    refused, its embargo moved later) stays live as last published; only `briefings withdraw` or its
    `withdraw_after` date takes a published briefing down; `read_published` reads a file from the
    destination (its transcript, for its page and the search).
    """
    report = progress or (lambda message: None)
    analysis_cache = workspace / STATE_DIR / "cache" / "analysis"
    # The show's settings, artwork and stings first: a bad one stops the publish before anything is written.
    checked = check_show(workspace, runner, analysis_cache)
    show, artwork_type, stings = checked.show, checked.artwork_type, checked.stings
    artwork_path = workspace / show.artwork
    submissions = check_all(episode_folders(workspace), show, runner, analysis_cache, jobs)
    # A withdrawn briefing is not published, so its problems do not matter.
    problems = [
        problem for submission in submissions if submission.slug not in exclude for problem in submission.problems
    ]
    embargoed: list[tuple[str, datetime]] = []
    withdrawn: list[str] = []
    ready: list[Submission] = []
    for submission in submissions:
        briefing = submission.briefing
        if submission.slug in exclude:
            withdrawn.append(submission.slug)
        elif briefing is None or not submission.valid:
            continue
        elif briefing.review.published > now:
            embargoed.append((submission.slug, briefing.review.published))
        elif briefing.withdraw_after is not None and briefing.withdraw_after <= now.date():
            withdrawn.append(submission.slug)
        else:
            ready.append(submission)

    cache = AudioCache(workspace / STATE_DIR / "cache" / "audio", runner, show.audio, stings, analysis_cache)

    def process(submission: Submission) -> tuple[Submission, Processed | Problem]:
        slug = submission.slug
        try:
            result = guarded(
                submission.folder,
                "encoding its recording",
                lambda: cache.process(
                    submission.recording, None if tracker is None else lambda fraction: tracker.update(slug, fraction)
                ),
            )
        except AudioError as error:
            (result,) = error.problems
        if isinstance(result, Problem):
            if tracker is not None:
                tracker.finish(slug, f"failed: {slug}")
            return submission, result
        encoded = result.encoded
        message = f"{'encoded' if result.fresh else 'unchanged'}: {slug}"
        if result.fresh:
            message += f" ({encoded.source} -> {encoded.result}; {', '.join(audio.describe(encoded))})"
        if tracker is not None:
            tracker.finish(slug, message)
        else:
            report(message)
        return submission, result

    report(f"processing {len(ready)} recording(s)")
    if tracker is not None:
        tracker.start([submission.slug for submission in ready])
    try:
        results = each(process, ready, jobs)
    finally:
        if tracker is not None:
            tracker.close()

    stager = Stager(staging(workspace))
    artwork_bytes = artwork_path.read_bytes()
    artwork = stager.add_bytes(
        f"artwork-{hashlib.sha256(artwork_bytes).hexdigest()[:8]}{artwork_path.suffix.lower()}", artwork_bytes, MEDIA
    )
    episodes: list[Episode] = []
    transcripts: dict[str, str] = {}
    encode_warnings: list[Problem] = []
    for submission, result in results:
        if isinstance(result, Problem):
            problems.append(result)
            continue
        mark = len(stager.outputs)
        try:
            staged = guarded(
                submission.folder,
                "rendering its files",
                partial(
                    _render_episode, stager, runner, show, submission, result, (artwork_bytes, artwork_type), guids
                ),
            )
        except TranscriptError as error:
            (staged,) = error.problems
        if isinstance(staged, Problem):
            stager.discard({output.key for output in stager.outputs[mark:]})  # nothing about it is published
            problems.append(staged)
            continue
        episode, transcript_text = staged
        episodes.append(episode)
        if transcript_text is not None:
            transcripts[episode.slug] = transcript_text
        if result.fresh:  # said once, when it is encoded: a cached recording is not news on every run
            encode_warnings += result.encoded.warnings
    problems += encode_warnings
    kept: list[str] = []
    built = {episode.slug for episode in episodes}
    for slug, record in (published or {}).items():
        if slug in built or slug in exclude or slug in withdrawn:
            continue
        last = from_record(slug, record)
        if last is None:
            continue  # recorded before episodes were kept in full: the plan stops the publish instead
        episodes.append(last)
        kept.append(slug)
        if last.transcript_key and read_published is not None:
            text = read_published(last.transcript_key)
            if text is not None:
                transcripts[slug] = text.decode("utf-8", errors="replace")
        problems.append(
            Problem(
                shown(workspace / EPISODES_DIR / slug),
                "not published from this workspace now, so its last published version stays live",
                f"correct the problems above and publish again, or take it down with `briefings withdraw {slug}`",
                severity=Severity.WARNING,
            )
        )

    def render(listed: list[Episode]) -> tuple[dict[str, bytes], dict[str, bytes]]:
        texts = {episode.slug: transcripts[episode.slug] for episode in listed if episode.slug in transcripts}
        return render_site(show, listed, FEED_KEY, texts), render_feeds(show, listed, artwork.key)

    try:
        pages, feeds = render(episodes)
    except BriefingsError:
        raise
    except Exception:
        # A bug that one briefing's text sets off: find the briefing by rendering each built now alone, refuse
        # it, and render the others. Anything else (the show, a kept briefing) is a bug to report as it is.
        failed = []
        for episode in [episode for episode in episodes if episode.slug in built]:
            folder = workspace / EPISODES_DIR / episode.slug
            alone = guarded(folder, "rendering its pages and feeds", partial(render, [episode]))
            if isinstance(alone, Problem):
                failed.append((episode, alone))
        if not failed:
            raise
        for episode, problem in failed:
            problems.append(problem)
            stager.discard(episode.files)
            episodes.remove(episode)
        pages, feeds = render(episodes)
    for key, data in pages.items():
        stager.add_bytes(key, data, PAGES)
    for key, data in feeds.items():
        stager.add_bytes(key, data, FEEDS)
    return Build(
        show=show,
        episodes=tuple(sorted(episodes, key=lambda episode: episode.published, reverse=True)),
        outputs=tuple(sorted(stager.outputs, key=lambda output: (output.stage, output.key))),
        problems=tuple(problems),
        embargoed=tuple(embargoed),
        withdrawn=tuple(withdrawn),
        encoded=sum(1 for _, result in results if isinstance(result, Processed) and result.fresh),
        kept=tuple(kept),
        encode_warnings=tuple(encode_warnings),
    )
