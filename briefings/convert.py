"""`briefings audio`: normalise recordings to files, outside any workspace's build."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from briefings import audio
from briefings.check import show_stings
from briefings.config import SHOW_FILE, AudioSettings, load_show
from briefings.errors import BriefingsError, Problem, UsageError, printable, shown
from briefings.progress import Reporter
from briefings.runner import Runner
from briefings.tagging import duration

FORMATS = {extension: name for name, extension in audio.EXTENSIONS.items()}


def audio_settings(workspace: Path, overrides: Mapping[str, Any]) -> tuple[AudioSettings, audio.Stings]:
    """The workspace's [audio] settings (defaults without a show.toml), with `overrides` (not None) on top."""
    show = load_show(workspace) if (workspace / SHOW_FILE).is_file() else None
    base = show.audio if show is not None else AudioSettings()
    chosen = {name: value for name, value in overrides.items() if value is not None}
    try:
        settings = AudioSettings.model_validate(base.model_dump() | chosen)
    except ValidationError as error:
        problem = error.errors()[0]
        option = str(problem["loc"][0]).replace("_", "-")
        raise UsageError(f"--{option}: {problem['msg'].lower()} (fix: see `briefings audio --help`)") from None
    stings = show_stings(workspace, settings) if show is not None else audio.NO_STINGS
    return settings, stings


def to_folder(sources: Sequence[Path], output: str) -> bool:
    """Whether `output` names a folder to write each input's output into, rather than one file."""
    return len(sources) > 1 or output.endswith(("/", os.sep)) or Path(output).is_dir()


def output_format(sources: Sequence[Path], output: str) -> str | None:
    """The format a single output's name asks for (None for a folder: the show's format)."""
    if to_folder(sources, output):
        return None
    if Path(output).resolve() in {source.resolve() for source in sources}:
        raise UsageError(f"-o {printable(output)}: is the input (fix: write to a new file)")
    suffix = Path(output).suffix.lower()
    if suffix not in FORMATS:
        raise UsageError(
            f"-o {printable(output)}: not an .mp3 or .m4a file name (fix: name it .mp3 for MP3, .m4a for AAC)"
        )
    return FORMATS[suffix]


def targets(sources: Sequence[Path], output: str, settings: AudioSettings, force: bool) -> list[Path]:
    """Where each input's output goes; refuses, before anything is encoded, outputs that are an input, that two
    inputs share, or that exist already without `force` (as ffmpeg-normalize does)."""
    folder = Path(output)
    if to_folder(sources, output):
        if folder.exists() and not folder.is_dir():
            raise UsageError(f"-o {printable(output)}: not a folder (fix: with several inputs, give a folder: -o DIR/)")
        chosen = [folder / f"{source.stem}{audio.EXTENSIONS[settings.format]}" for source in sources]
    else:
        if not folder.parent.is_dir():
            raise UsageError(f"-o {printable(output)}: no folder {shown(folder.parent)} (fix: create it first)")
        chosen = [folder]
    problems = []
    inputs = {source.resolve() for source in sources}
    seen: set[Path] = set()
    for target in chosen:
        shown_target = printable(str(target))
        if target.resolve() in inputs:
            raise UsageError(f"-o {shown_target}: is an input (fix: write to a new file)")
        if target.resolve() in seen:
            raise UsageError(
                f"-o {shown_target}: two inputs have this name (fix: rename one, or normalise them separately)"
            )
        seen.add(target.resolve())
        if target.exists() and not force:
            problems.append(
                Problem(f"-o {shown_target}", "already exists", "add -f to replace it, or choose another name")
            )
    if problems:
        raise BriefingsError(*problems)
    if to_folder(sources, output):
        folder.mkdir(parents=True, exist_ok=True)
    return chosen


@dataclass(frozen=True)
class Normalised:
    """One recording normalised to a file: what was measured before and after."""

    source: Path
    output: Path
    encoded: audio.Encoded
    duration: float

    def lines(self) -> list[str]:
        """The loudness, peak and length before and after, as `briefings audio` prints them."""
        encoded = self.encoded
        source, result = encoded.source, encoded.result
        return [
            f"Input:  {shown(self.source)}: {source.integrated:.1f} LUFS, sample peak {source.true_peak:.1f} dBFS, "
            f"{encoded.source_duration:.1f} s",
            f"Output: {shown(self.output)}: {result.integrated:.1f} LUFS, true peak {result.true_peak:.1f} dBTP, "
            f"{self.duration:.1f} s ({'; '.join(audio.describe(encoded))})",
        ]

    def to_dict(self) -> dict[str, Any]:
        """As `briefings audio --json` prints it."""
        encoded = self.encoded
        return {
            "input": {
                "file": str(self.source),
                "integrated_lufs": encoded.source.integrated,
                "sample_peak_dbfs": encoded.source.true_peak,
                "duration": encoded.source_duration,
            },
            "output": {
                "file": str(self.output),
                "integrated_lufs": encoded.result.integrated,
                "true_peak_dbtp": encoded.result.true_peak,
                "duration": round(self.duration, 3),
            },
            "gain_db": encoded.gain,
            "trimmed_start": encoded.trimmed_start,
            "trimmed_end": encoded.trimmed_end,
            "intro": encoded.intro,
            "encodes": encoded.attempts,
            "warnings": [str(warning).removeprefix("warning: ") for warning in encoded.warnings],
        }


def normalise(
    source: Path, output: Path, settings: AudioSettings, stings: audio.Stings, reporter: Reporter | None = None
) -> Normalised:
    """Normalise `source` into `output`, which appears only once it is complete and verified."""
    reporter = reporter or Reporter()
    partial = output.with_name(f".{output.name}.partial")
    reporter.start([source.name])
    try:
        result = audio.normalise(
            Runner(), source, partial, settings, stings, lambda fraction: reporter.update(source.name, fraction)
        )
        partial.replace(output)
    finally:
        partial.unlink(missing_ok=True)
        reporter.close()
    return Normalised(source, output, result, duration(output))
