"""gPodder's command line (`gpo`, Debian package gpodder) subscribes to every feed over HTTP and downloads."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

import yaml

from tests.conftest import serving

GPO = shutil.which("gpo")


def gpo(home: Path, *arguments: str) -> str:
    """Run gpo with its state and downloads under `home`; gpo exits 0 even on failure, so callers check results."""
    assert GPO is not None, "gpo not found: install the Debian package gpodder (scripts/test does)"
    env = {**os.environ, "GPODDER_HOME": str(home), "GPODDER_DOWNLOAD_DIR": str(home / "downloads")}
    done = subprocess.run([GPO, *arguments], env=env, capture_output=True, text=True, timeout=120, check=True)
    return done.stdout


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_gpodder_subscribes_to_every_feed_and_downloads_every_episode_intact(published: Path, tmp_path: Path) -> None:
    home = tmp_path / "gpodder"
    (home / "downloads").mkdir(parents=True)
    output = published / "feed"
    originals = {path.name: sha256(path) for path in (output / "media").glob("*.mp3")}
    assert len(originals) == 2
    with serving(published) as base:
        # The OPML list subscribes to the main feed and every theme and review-type feed in one step.
        gpo(home, "import", base + "feeds.opml")
        gpo(home, "update")
        gpo(home, "download")
        subscribed = gpo(home, "list")
    feeds = sorted(path.relative_to(output).as_posix() for path in output.rglob("*.xml"))
    assert len(feeds) == 15  # main, 9 themes, 5 review types
    for key in feeds:
        assert base + key in subscribed.splitlines()

    database = sqlite3.connect(home / "Database")
    rows = database.execute(
        "SELECT podcast.url, podcast.download_folder, episode.title, episode.guid, episode.file_size, "
        "episode.total_time, episode.chapters, episode.download_filename, episode.url "
        "FROM episode JOIN podcast ON podcast.id = episode.podcast_id"
    ).fetchall()
    database.close()
    # Child A is filed under 3 themes, Child B under 3; each is in the main feed and its review type's feed.
    assert len(rows) == 10
    per_feed = {key: sorted(row[2][:7] for row in rows if row[0] == base + key) for key in feeds}
    assert per_feed["feed.xml"] == ["Child A", "Child B"]
    assert per_feed["feeds/information-sharing.xml"] == ["Child A", "Child B"]
    assert per_feed["feeds/neglect.xml"] == ["Child A"]
    assert per_feed["feeds/voice-of-the-child.xml"] == ["Child B"]
    assert per_feed["feeds/exploitation.xml"] == []
    assert per_feed["feeds/review-type/serious-case-review.xml"] == ["Child B"]
    for _url, folder, title, _guid, size, seconds, chapters, filename, media_url in rows:
        media = output / media_url.removeprefix(base)
        assert size == media.stat().st_size
        assert 40 <= seconds <= 50
        # gPodder read the Podlove chapters: the briefing's own chapter titles.
        slug = media.name.rsplit("-", 1)[0]
        submitted = yaml.safe_load((published / "episodes" / slug / "briefing.yaml").read_text())
        assert [chapter["title"] for chapter in json.loads(chapters)] == [c["title"] for c in submitted["chapters"]]
        # gpo exits 0 even when a download fails: the file itself must be there, byte for byte.
        downloaded = home / "downloads" / folder / filename
        assert downloaded.is_file(), f"{title}: not downloaded"
        assert sha256(downloaded) == originals[media.name]
    # The same briefing carries the same GUID in every feed it is in.
    assert len({row[3] for row in rows}) == 2
