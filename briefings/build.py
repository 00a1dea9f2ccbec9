"""The pipeline: workspace in, every published file staged on disk out (nothing is published here)."""

from __future__ import annotations

import gc
import hashlib
import shutil
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

from briefings import audio
from briefings.audio_cache import AudioCache, Processed
from briefings.check import check_all, check_show, guarded
from briefings.config import EPISODES_DIR, STATE_DIR, Show
from briefings.episode import Episode, Timeline, chapter_list, episode_guid, from_record
from briefings.errors import AudioError, BriefingsError, Problem, Severity, shown
from briefings.feed import chapters_json, render_feeds
from briefings.harvest import harvested_episodes
from briefings.layout import (
    FEED_KEY,
    FEEDS,
    MEDIA,
    PRIVATE_SEARCH_NAME,
    Build,
    Output,
    artwork_key,
    media_key,
    private_staging,
    site_stage,
    staging,
)
from briefings.lifecycle import State, state_of
from briefings.progress import Reporter
from briefings.publish import Manifest
from briefings.runner import Runner, each
from briefings.site import render_staff_pages, site_rendering
from briefings.submission import Submission, episode_folders
from briefings.tagging import Tags, duration, tag
from briefings.transcript import TIMED_TYPES, TRANSCRIPT_TYPES, TranscriptError, html_transcript, shifted


def _written_sha256(path: Path) -> str:
    """SHA-256 of a file this build just wrote: read afresh, as a file rewritten within the same clock tick
    (file times are that coarse) can look unchanged to `file_sha256`, which is for inputs."""
    with path.open("rb") as data:
        return hashlib.file_digest(data, "sha256").hexdigest()


class Stager:
    """Writes build outputs into the staging folder and records them."""

    def __init__(self, root: Path) -> None:
        if root.exists():
            shutil.rmtree(root)
        root.mkdir(parents=True)
        self.root = root
        self.outputs: list[Output] = []
        self._folders = {""}  # the folders made, by key

    def add_bytes(self, key: str, data: bytes, stage: int) -> Output:
        """Stage `data` under `key`."""
        path = self._made(key)
        path.write_bytes(data)
        return self._record(key, path, hashlib.sha256(data).hexdigest(), len(data), stage)

    def add_file(self, key: str, source: Path, stage: int) -> Output:
        """Stage a copy of `source` under `key`."""
        path = self._made(key)
        shutil.copyfile(source, path)
        return self._record(key, path, _written_sha256(path), path.stat().st_size, stage)

    def discard(self, keys: Collection[str]) -> None:
        """Remove what was staged under `keys` (a briefing refused, or a render that failed, after they were staged)."""
        for output in self.outputs:
            if output.key in keys:
                output.path.unlink(missing_ok=True)
        self.outputs = [output for output in self.outputs if output.key not in keys]

    def _made(self, key: str) -> Path:
        """Where `key` is staged, its folder made once: asking for one that exists is a system call too, a third
        of a millisecond each on a slow disk, for each of the 21,000 files of a national archive."""
        folder = key.rpartition("/")[0]
        if folder not in self._folders:
            (self.root / folder).mkdir(parents=True, exist_ok=True)
            while folder not in self._folders:
                self._folders.add(folder)
                folder = folder.rpartition("/")[0]
        return self.root / key

    def _record(self, key: str, path: Path, sha256: str, size: int, stage: int) -> Output:
        output = Output(key, path, sha256, size, stage)
        self.outputs.append(output)
        return output


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
    folder: str | None = None,
) -> Episode:
    """Stage one briefing's files: a public one's under its slug; a staff-only one's under `folder`, a key
    derived from a secret (briefings.staff), so no public name or guessable address holds its slug (its
    page is there too: site.render_staff_pages)."""
    briefing = submission.briefing
    assert briefing is not None
    slug = submission.slug
    side = folder or f"briefings/{slug}/"
    page_key = f"{side}index.html"
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
    key = media_key(slug, digest, processed.suffix) if folder is None else f"{folder}{digest[:16]}{processed.suffix}"
    media = stager.add_file(key, tagged, MEDIA)
    length = duration(tagged)
    tagged.unlink()
    chapters_key = transcript_key = transcript_type = None
    if briefing.chapters:
        chapters_key = f"{side}chapters.json"
    transcript = submission.transcript
    if transcript is not None:
        transcript_type = TRANSCRIPT_TYPES.get(transcript.suffix.lower(), "text/plain")
        transcript_key = f"{side}transcript{transcript.suffix.lower()}"
        if transcript_type in TIMED_TYPES:
            # Captions in the published file's time, as the chapters are (trimmed silence, the intro).
            text = shifted(transcript.read_text(encoding="utf-8-sig"), (timeline or Timeline()).place)
            stager.add_bytes(transcript_key, text.encode("utf-8"), MEDIA)
        else:
            stager.add_file(transcript_key, transcript, MEDIA)
    transcript_html_key = None
    if transcript_html is not None:
        transcript_html_key = f"{side}transcript.html"
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
    folder: str | None = None,
) -> tuple[Episode, str | None]:
    """Stage one briefing's tagged audio, side files and transcript page; its episode and transcript text."""
    transcript = submission.transcript
    html = text = None
    if transcript is not None and submission.briefing is not None:
        # Read before staging anything, so a refused briefing leaves no file behind.
        html = html_transcript(transcript, submission.briefing.title, show.language, result.timeline.place)
        text = transcript.read_text(encoding="utf-8", errors="replace")
    # A GUID, once published, never changes (apps would list the briefing twice): the destination's
    # record wins over the one derived from the show id and slug.
    guid = (guids or {}).get(submission.slug) or episode_guid(show.id, submission.slug)
    episode = _stage_episode(
        stager, runner, show, submission, result.path, artwork, guid, html, result.timeline, folder
    )
    return episode, text


@contextmanager
def _without_cycle_collection() -> Iterator[None]:
    """Python's cycle collector off for the duration. Each of its full runs walks every object alive: at
    national scale (10,000 harvested briefings, millions of objects) a second of the build in all, to free a
    few hundred objects (https://docs.python.org/3/library/gc.html); memory held in cycles is freed when it is
    back on."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@_without_cycle_collection()
def build(
    workspace: Path,
    runner: Runner,
    now: datetime,
    jobs: int = 1,
    reporter: Reporter | None = None,
    exclude: Collection[str] = (),
    guids: Mapping[str, str] | None = None,
    published: Mapping[str, Mapping[str, Any]] | None = None,
    read_published: Callable[[str], bytes | None] | None = None,
    media_folder: Callable[[str], str] | None = None,
) -> Build:
    """Process every ready submission in `workspace` and stage the complete site for publishing.

    Slugs in `exclude` (briefings taken down with `briefings withdraw`) are left out and listed as withdrawn;
    `guids` are the GUIDs already published, which a briefing keeps for life. `published` are the episodes
    the destination's manifest records: one this build cannot publish (its folder is not here, it was
    refused, its embargo moved later) stays live as last published; only `briefings withdraw` or its
    `withdraw_after` date takes a published briefing down; `read_published` reads a file from the
    destination (its transcript, for its page and the search). `media_folder` gives a staff-only briefing's
    private folder (briefings.staff); without it staff-only briefings are not processed at all. Either way
    they are in no public output: they are staged apart, in `Build.private_outputs`.
    """
    reporter = reporter or Reporter()
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
        # `exclude` holds every briefing withdrawn by command; nothing else at the destination changes what is built.
        state = state_of(submission, Manifest(), now, withdraw=exclude)
        if state is State.WITHDRAWN:
            withdrawn.append(submission.slug)
        elif state is State.EMBARGOED:
            assert submission.briefing is not None
            embargoed.append((submission.slug, submission.briefing.review.published))
        elif state is not State.INVALID:
            ready.append(submission)
    # A staff-only briefing is never part of the public build: no public feed, page, index, catalogue or
    # manifest is rendered from it, so none can name it.
    staff = tuple(submission.slug for submission in ready if submission.briefing and submission.briefing.staff_only)
    staff_ready = [submission for submission in ready if submission.slug in staff and media_folder is not None]
    ready = [submission for submission in ready if submission.slug not in staff]

    cache = AudioCache(workspace / STATE_DIR / "cache" / "audio", runner, show.audio, stings, analysis_cache)

    def process(submission: Submission) -> tuple[Submission, Processed | Problem]:
        slug = submission.slug
        try:
            result = guarded(
                submission.folder,
                "encoding its recording",
                lambda: cache.process(submission.recording, lambda fraction: reporter.update(slug, fraction)),
            )
        except AudioError as error:
            (result,) = error.problems
        if isinstance(result, Problem):
            reporter.finish(slug, f"failed: {slug}")
            return submission, result
        encoded = result.encoded
        message = f"{'encoded' if result.fresh else 'unchanged'}: {slug}"
        if result.fresh:
            message += f" ({encoded.source} -> {encoded.result}; {', '.join(audio.describe(encoded))})"
        reporter.finish(slug, message)
        return submission, result

    reporter.step(f"processing {len(ready) + len(staff_ready)} recording(s)")
    reporter.start([submission.slug for submission in ready + staff_ready])
    try:
        results = each(process, ready + staff_ready, jobs)
    finally:
        reporter.close()

    stager = Stager(staging(workspace))
    private = Stager(private_staging(workspace))
    artwork_bytes = artwork_path.read_bytes()
    artwork = stager.add_bytes(
        artwork_key(hashlib.sha256(artwork_bytes).hexdigest(), artwork_path.suffix.lower()), artwork_bytes, MEDIA
    )
    episodes: list[Episode] = []
    staff_episodes: list[Episode] = []
    transcripts: dict[str, str] = {}
    staff_transcripts: dict[str, str] = {}
    encode_warnings: list[Problem] = []
    for submission, result in results:
        if isinstance(result, Problem):
            problems.append(result)
            continue
        hidden = media_folder(submission.slug) if media_folder is not None and submission.slug in staff else None
        into = stager if hidden is None else private
        mark = len(into.outputs)
        try:
            staged = guarded(
                submission.folder,
                "rendering its files",
                partial(
                    _render_episode,
                    into,
                    runner,
                    show,
                    submission,
                    result,
                    (artwork_bytes, artwork_type),
                    guids,
                    hidden,
                ),
            )
        except TranscriptError as error:
            (staged,) = error.problems
        if isinstance(staged, Problem):
            into.discard({output.key for output in into.outputs[mark:]})  # nothing about it is published
            problems.append(staged)
            continue
        episode, transcript_text = staged
        if hidden is not None:
            # Its transcript text goes to no public search index either: only to the private one.
            staff_episodes.append(episode)
            if transcript_text is not None:
                staff_transcripts[episode.slug] = transcript_text
            if result.fresh:
                encode_warnings += result.encoded.warnings
            continue
        episodes.append(episode)
        if transcript_text is not None:
            transcripts[episode.slug] = transcript_text
        if result.fresh:  # said once, when it is encoded: a cached recording is not news on every run
            encode_warnings += result.encoded.warnings
    problems += encode_warnings
    kept: list[str] = []
    built = {episode.slug for episode in episodes}
    for slug, record in (published or {}).items():
        if slug in built or slug in exclude or slug in withdrawn or slug in staff:
            continue  # a published briefing now `audience: staff` is taken down from public (publish.plan)
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

    # Briefings harvested from other shows ([harvest]) are listed beside this show's own, never instead of them.
    outside = harvested_episodes(workspace, show, {episode.guid for episode in episodes} | set((guids or {}).values()))

    def render(listed: list[Episode], harvested: Sequence[Episode] = (), into: Stager | None = None) -> None:
        """Render the archive and feeds of `listed` and the `harvested`, staged `into` (if given: else only
        rendered, to see that they render)."""
        texts = {episode.slug: transcripts[episode.slug] for episode in listed if episode.slug in transcripts}
        # A briefing published before and no longer listed was withdrawn: the catalogue's tombstones say so.
        listed_slugs = {episode.slug for episode in listed}
        gone = {slug: guid for slug, guid in (guids or {}).items() if slug not in listed_slugs}
        listed = [*listed, *harvested]
        cache = workspace / STATE_DIR / "cache" / "search"

        def stage(files: dict[str, bytes], stage_of: Callable[[str], int]) -> None:
            if into is not None:
                for key, data in files.items():
                    into.add_bytes(key, data, stage_of(key))

        with site_rendering(show, listed, FEED_KEY, texts, search_cache=cache) as site:
            # Written while the search indexes: a national archive's 10,000 pages take seconds to write.
            stage(render_feeds(show, listed, artwork.key, gone), lambda key: FEEDS)
            stage(site.pages(), site_stage)
            stage(site.search(), site_stage)

    reporter.step(f"rendering the archive and feeds of {len(episodes) + len(outside)} briefing(s)")
    mark = len(stager.outputs)
    try:
        render(episodes, outside, stager)
    except BriefingsError:
        raise
    except Exception:
        stager.discard({output.key for output in stager.outputs[mark:]})
        # A bug that one briefing's text sets off: find the briefing by rendering each built now alone (not beside
        # thousands of harvested ones), refuse it, and render the others. Anything else (the show, a kept briefing) is a bug to report as it is.
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
        render(episodes, outside, stager)
    if staff_episodes and media_folder is not None:
        # Their pages and their own search, under keys derived from the secret as their files are.
        search_folder = media_folder(PRIVATE_SEARCH_NAME)
        kept_search = workspace / STATE_DIR / "cache" / "search-private"
        staff_pages = render_staff_pages(show, staff_episodes, FEED_KEY, staff_transcripts, search_folder, kept_search)
        for key, data in staff_pages.items():
            private.add_bytes(key, data, site_stage(key.removeprefix(search_folder)))
    return Build(
        show=show,
        episodes=tuple(sorted(episodes, key=lambda episode: episode.published, reverse=True)),
        outputs=tuple(sorted(stager.outputs, key=lambda output: (output.stage, output.key))),
        problems=tuple(problems),
        embargoed=tuple(embargoed),
        withdrawn=tuple(withdrawn),
        encoded=sum(1 for _, result in results if isinstance(result, Processed) and result.fresh),
        kept=tuple(kept),
        staff=staff,
        staff_episodes=tuple(sorted(staff_episodes, key=lambda episode: episode.published, reverse=True)),
        private_outputs=tuple(sorted(private.outputs, key=lambda output: (output.stage, output.key))),
        encode_warnings=tuple(encode_warnings),
        harvested=tuple(outside),
    )
