"""Processed recordings kept between builds, so an unchanged recording is never encoded twice."""

from __future__ import annotations

import hashlib
import json
import threading
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from briefings import audio
from briefings.config import AudioSettings
from briefings.episode import Timeline
from briefings.errors import Problem
from briefings.inputs import file_sha256
from briefings.runner import Runner

# Bump when the audio processing changes, so cached encodes are redone.
# 2: silence trimming, stings, limiter calibration, verification by a loopback decoder.
AUDIO_PIPELINE_VERSION = 2


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
