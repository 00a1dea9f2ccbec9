"""`briefings harvest`: shows published by briefings itself to folders served over HTTP on 127.0.0.1 (with ETags,
as S3 and CDNs answer), a plain podcast without the review metadata, and hostile feeds."""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import shutil
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import feedparser
import podcastparser
import pytest
import yaml
from playwright.sync_api import Page, expect

from briefings import Workspace
from briefings.harvest import harvested
from briefings.layout import content_type
from tests.conftest import bundle_text, published_files, run
from tests.test_gpodder import gpo

NOW = datetime.fromisoformat("2027-01-10T09:00:00+00:00")
CHILD_A_TITLE = "Child A: the baby nobody saw"
PLAIN = b"""<?xml version="1.0"?>
<rss version="2.0"><channel><title>A cooking podcast</title><link>https://cook.example.org/</link>
<description>Recipes</description><item><title>Bread</title><guid>bread-1</guid>
<enclosure url="https://cook.example.org/bread.mp3" length="1000" type="audio/mpeg"/></item></channel></rss>"""
XXE = b"""<?xml version="1.0"?>
<!DOCTYPE rss [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<rss version="2.0"><channel><title>&secret;</title></channel></rss>"""
LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY a "lol"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
    b'<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">]>'
    b'<rss version="2.0"><channel><title>&d;</title></channel></rss>'
)


@dataclass
class Server:
    """A static file server with ETags and conditional GETs; it logs each request and its answer."""

    root: Path
    url: str = ""
    log: list[tuple[str, int]] = field(default_factory=list)
    failing: set[str] = field(default_factory=set)  # paths that answer 500


class Handler(BaseHTTPRequestHandler):
    server_state: Server

    def do_GET(self) -> None:
        state = self.server_state
        path = self.path.split("?")[0]
        if path in state.failing:
            return self._answer(path, 500)
        if path == "/loop":
            self.log_request_path(path, 302)
            self.send_response(302)
            self.send_header("Location", "/loop")
            self.end_headers()
            return None
        if path == "/huge.xml":
            self.log_request_path(path, 200)
            self.send_response(200)
            self.end_headers()
            chunk = b"<!-- " + b"x" * (1024 * 1024) + b" -->"
            try:
                self.wfile.write(b'<?xml version="1.0"?><rss version="2.0">')
                for _ in range(50):
                    self.wfile.write(chunk)
            except OSError:
                pass  # the client stopped reading, as it should
            return None
        file = state.root / path.lstrip("/")
        if not file.is_file():
            return self._answer(path, 404)
        data = file.read_bytes()
        tag = '"' + hashlib.sha256(data).hexdigest()[:16] + '"'
        if self.headers.get("If-None-Match") == tag:
            return self._answer(path, 304)
        self.log_request_path(path, 200)
        self.send_response(200)
        self.send_header("ETag", tag)
        self.send_header("Content-Length", str(len(data)))
        # The archive's search is a module script (pagefind.js), which browsers run only when served with
        # a JavaScript type, as a bucket or the preview serves it (layout.CONTENT_TYPES).
        self.send_header("Content-Type", content_type(path))
        self.end_headers()
        self.wfile.write(data)
        return None

    def do_HEAD(self) -> None:
        file = self.server_state.root / self.path.split("?")[0].lstrip("/")
        if not file.is_file():
            return self._answer(self.path, 404)
        self.send_response(200)
        self.send_header("Content-Length", str(file.stat().st_size))
        self.send_header("Content-Type", "audio/mpeg" if file.suffix == ".mp3" else "application/octet-stream")
        self.end_headers()
        return None

    def _answer(self, path: str, status: int) -> None:
        self.log_request_path(path, status)
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_request_path(self, path: str, status: int) -> None:
        self.server_state.log.append((path, status))

    def log_message(self, *arguments: object) -> None:
        pass


@contextlib.contextmanager
def static_server(root: Path) -> Iterator[Server]:
    """Serve `root` on a free port of 127.0.0.1 until the block ends."""
    state = Server(root)
    handler = type("Bound", (Handler,), {"server_state": state})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    state.url = f"http://127.0.0.1:{httpd.server_address[1]}/"
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield state
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    (tmp_path / "www").mkdir()
    with static_server(tmp_path / "www") as state:
        yield state


def source_show(workspace: Path, tmp_path: Path, server: Server, name: str, partnership: str) -> Path:
    """A copy of the example show, with its own partnership, published to the server's `name/` folder."""
    show = tmp_path / name
    shutil.copytree(workspace, show, symlinks=True, ignore=shutil.ignore_patterns("feed"))
    text = (show / "show.toml").read_text()
    text = text.replace('base_url = "https://briefings.example.org/"', f'base_url = "{server.url}{name}/"')
    text = text.replace('to = "feed"', f'to = "{server.root / name}"')
    text = re.sub(r'(?m)^id = ".*"$', f'id = "{uuid.uuid4()}"', text)  # a show of its own: its own GUIDs
    (show / "show.toml").write_text(text)
    for briefing in (show / "episodes").glob("*/briefing.yaml"):
        data = yaml.safe_load(briefing.read_text())
        data["review"]["partnership"] = partnership
        briefing.write_text(yaml.safe_dump(data, allow_unicode=True))
    assert run(show, "publish").exit_code == 0
    return show


def central_show(tmp_path: Path, sources: list[str]) -> Path:
    central = tmp_path / "central"
    assert run(tmp_path, "init", str(central), "--title", "National Practice Briefings").exit_code == 0
    text = (central / "show.toml").read_text()
    listed = ", ".join(f'"{url}"' for url in sources)
    text += f'\n[harvest]\nsources = [{listed}]\n[harvest.themes]\n"DV" = "neglect"\n'
    (central / "show.toml").write_text(text)
    return central


def test_a_harvest_gathers_every_source_and_then_costs_one_304_each(
    workspace: Path, tmp_path: Path, server: Server
) -> None:
    west = source_show(workspace, tmp_path, server, "westmarsh", "Westmarsh Safeguarding Children Partnership")
    north = source_show(workspace, tmp_path, server, "northvale", "Northvale Safeguarding Children Board")
    assert run(west, "withdraw", "child-b").exit_code == 0  # a tombstone in Westmarsh's catalogue
    (server.root / "plain.xml").write_bytes(PLAIN)
    sources = [f"{server.url}westmarsh/feed.xml", f"{server.url}northvale/feed.xml", f"{server.url}plain.xml"]
    central = central_show(tmp_path, sources)

    first = run(central, "harvest")
    assert first.exit_code == 0, first.output
    assert first.stdout.splitlines() == [
        f"{sources[0]}: 1 new (1 briefing(s))",
        f"{sources[1]}: 2 new (2 briefing(s))",
        f"{sources[2]}: unchanged (0 briefing(s))",
    ]
    assert f"warning: {sources[2]}: 1 item(s) skipped: no review metadata (briefings:reviewType" in first.stderr
    gathered = harvested(central, Workspace(central).show)
    assert [(source, briefing.review.partnership) for source, _, briefing in gathered] == [
        (sources[0], "Westmarsh Safeguarding Children Partnership"),
        (sources[1], "Northvale Safeguarding Children Board"),
        (sources[1], "Northvale Safeguarding Children Board"),
    ]
    lessons = yaml.safe_load((north / "episodes" / "child-a" / "briefing.yaml").read_text())["key_lessons"]
    assert any(briefing.lessons == lessons for _, _, briefing in gathered)  # in order, whole

    # Nothing changed: one request per briefings source, each answered 304.
    server.log.clear()
    again = run(central, "harvest", "--json")
    assert [source["status"] for source in json.loads(again.stdout)["sources"]] == ["unchanged"] * 3
    assert sorted(server.log) == [
        ("/northvale/catalogue.json", 304),
        ("/plain.xml", 304),
        ("/westmarsh/catalogue.json", 304),
    ]

    # An edit and a withdrawal at Northvale: said, and the harvest follows.
    briefing = north / "episodes" / "child-a" / "briefing.yaml"
    briefing.write_text(briefing.read_text().replace("title: ", "title: Revised ", 1))
    assert run(north, "publish").exit_code == 0
    assert run(central, "harvest").stdout.splitlines()[1] == f"{sources[1]}: 1 changed (2 briefing(s))"
    assert run(north, "withdraw", "child-b").exit_code == 0
    assert run(central, "harvest").stdout.splitlines()[1] == f"{sources[1]}: 1 withdrawn (1 briefing(s))"


def test_a_failing_source_keeps_its_last_good_harvest(workspace: Path, tmp_path: Path, server: Server) -> None:
    source_show(workspace, tmp_path, server, "westmarsh", "Westmarsh Safeguarding Children Partnership")
    url = f"{server.url}westmarsh/feed.xml"
    central = central_show(tmp_path, [url])
    assert run(central, "harvest").exit_code == 0
    server.failing.add("/westmarsh/catalogue.json")
    result = run(central, "harvest")
    assert result.exit_code == 0
    assert result.stderr.splitlines()[-1] == (
        f"{url}: failed: {server.url}westmarsh/catalogue.json answered HTTP 500 (fix: check the address with its "
        "publisher); kept its last good harvest (2 briefing(s))"
    )
    assert len(harvested(central, Workspace(central).show)) == 2
    status = run(central, "status").stdout
    assert f"Harvested {url}: 2 briefing(s), " in status and "; the last try failed: " in status
    assert run(central, "harvest", "--strict").exit_code == 1
    server.failing.clear()
    assert run(central, "harvest").stdout == f"{url}: unchanged (2 briefing(s))\n"


def test_the_same_briefing_from_two_sources_appears_once(workspace: Path, tmp_path: Path, server: Server) -> None:
    source_show(workspace, tmp_path, server, "westmarsh", "Westmarsh Safeguarding Children Partnership")
    shutil.copytree(server.root / "westmarsh", server.root / "copycat")
    sources = [f"{server.url}westmarsh/feed.xml", f"{server.url}copycat/feed.xml"]
    central = central_show(tmp_path, sources)
    result = run(central, "harvest")
    assert result.exit_code == 0
    claims = [line for line in result.stderr.splitlines() if "has too; shown once" in line]
    assert len(claims) == 2 and all(line.startswith(f"warning: {sources[1]}: lists briefing ") for line in claims)
    assert [source for source, _, _ in harvested(central, Workspace(central).show)] == [sources[0]] * 2


@pytest.mark.parametrize(
    ("path", "body", "problem"),
    [
        ("/xxe.xml", XXE, "declares a DTD, refused as untrusted XML (fix: a podcast feed needs none)"),
        ("/laughs.xml", LAUGHS, "declares a DTD, refused as untrusted XML"),
        ("/huge.xml", None, "is over 20 MB (fix: ask its publisher to check it)"),
        ("/loop", None, "redirects more than 5 times (fix: check the address)"),
        ("/broken.xml", b"<rss><channel><title>cut sh", "is not well-formed XML"),
        ("/missing.xml", None, "answered HTTP 404"),
    ],
)
def test_a_hostile_or_broken_source_is_one_line_and_the_rest_goes_on(
    workspace: Path, tmp_path: Path, server: Server, path: str, body: bytes | None, problem: str
) -> None:
    source_show(workspace, tmp_path, server, "westmarsh", "Westmarsh Safeguarding Children Partnership")
    if body is not None:
        (server.root / path.lstrip("/")).write_bytes(body)
    hostile, good = server.url + path.lstrip("/"), f"{server.url}westmarsh/feed.xml"
    central = central_show(tmp_path, [hostile, good])
    result = run(central, "harvest")
    assert result.exit_code == 0, result.output
    [line] = [line for line in result.stderr.splitlines() if line.startswith(f"{hostile}: failed: ")]
    assert problem in line and "root:" not in result.output  # nothing of /etc/passwd
    assert result.stdout == f"{good}: 2 new (2 briefing(s))\n"


def test_untrusted_entries_are_checked_field_by_field(workspace: Path, tmp_path: Path, server: Server) -> None:
    source_show(workspace, tmp_path, server, "westmarsh", "Westmarsh Safeguarding Children Partnership")
    catalogue_path = server.root / "westmarsh" / "catalogue.json"
    catalogue = json.loads(catalogue_path.read_text())
    first, second = catalogue["briefings"]
    first["title"] = "<script>alert(1)</script> Child A"  # text stays text: kept, as written
    second["audio"]["type"] = "text/html"
    second["page"] = "javascript:alert(1)"
    catalogue_path.write_text(json.dumps(catalogue))
    url = f"{server.url}westmarsh/feed.xml"
    central = central_show(tmp_path, [url])
    result = run(central, "harvest")
    assert result.stdout == f"{url}: 1 new (1 briefing(s))\n"
    assert f"warning: {url}: 1 briefing(s) skipped, " in result.stderr
    [(_, _, kept)] = harvested(central, Workspace(central).show)
    assert kept.title == "<script>alert(1)</script> Child A"
    # The kept state edited by hand to a show that is not one: the source is named by its address instead.
    [kept_state] = (central / ".briefings" / "harvest").glob("*.json")
    state = json.loads(kept_state.read_text())
    state["show"] = {"title": ["not", "text"], "url": "javascript:alert(1)"}
    kept_state.write_text(json.dumps(state))
    [(_, source, _)] = harvested(central, Workspace(central).show)
    assert (source.title, str(source.url)) == (url, url)
    # Shown as text on every page and in every feed of the central show, never as markup (JSON holds it as data,
    # which the archive's script shows with textContent).
    assert run(central, "publish").exit_code == 0
    published = [path for path in (central / "feed").rglob("*") if path.suffix in (".html", ".xml")]
    assert not [path for path in published if "<script>alert(1)" in path.read_text()]
    assert any("&lt;script&gt;alert(1)&lt;/script&gt; Child A" in path.read_text() for path in published)


def test_sources_must_be_https_except_on_this_machine(tmp_path: Path) -> None:
    central = central_show(tmp_path, ["http://westmarsh.example.org/feed.xml"])
    result = run(central, "harvest")
    assert result.exit_code == 1
    assert "harvest.sources" in result.stderr and "is not https" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_theme_mapped_to_no_theme_of_this_show_is_refused(tmp_path: Path) -> None:
    central = central_show(tmp_path, ["https://westmarsh.example.org/feed.xml"])
    text = (central / "show.toml").read_text().replace('"DV" = "neglect"', '"DV" = "domestic violence"')
    (central / "show.toml").write_text(text)
    result = run(central, "harvest")
    assert result.exit_code == 1
    assert "maps to `domestic violence`, not one of this show's themes" in result.stderr


def test_a_harvest_is_dated_by_the_workspace_clock(workspace: Path, tmp_path: Path, server: Server) -> None:
    source_show(workspace, tmp_path, server, "westmarsh", "Westmarsh Safeguarding Children Partnership")
    central = central_show(tmp_path, [f"{server.url}westmarsh/feed.xml"])
    Workspace(central, now=NOW).harvest()
    [state] = (central / ".briefings" / "harvest").glob("*.json")
    assert json.loads(state.read_text())["harvested"] == NOW.isoformat()


def test_the_central_show_lists_harvested_briefings_and_follows_withdrawals(
    workspace: Path, tmp_path: Path, server: Server
) -> None:
    west = source_show(workspace, tmp_path, server, "westmarsh", "Westmarsh Safeguarding Children Partnership")
    north = source_show(workspace, tmp_path, server, "northvale", "Northvale Safeguarding Children Board")
    # Northvale files domestic abuse as "DV", which the central show maps to its own "domestic abuse".
    (north / "show.toml").write_text((north / "show.toml").read_text().replace('"domestic abuse"', '"DV"'))
    briefing = north / "episodes" / "child-b" / "briefing.yaml"
    briefing.write_text(briefing.read_text().replace("- domestic abuse", "- DV"))
    assert run(north, "publish").exit_code == 0
    assert run(west, "withdraw", "child-b").exit_code == 0
    sources = [f"{server.url}westmarsh/feed.xml", f"{server.url}northvale/feed.xml"]
    central = central_show(tmp_path, sources)
    text = (central / "show.toml").read_text().replace('"DV" = "neglect"', '"DV" = "domestic abuse"')
    (central / "show.toml").write_text(text)
    assert run(central, "harvest").exit_code == 0
    result = run(central, "publish")
    assert result.exit_code == 0, result.output

    catalogues = {
        name: json.loads((server.root / name / "catalogue.json").read_text()) for name in ("westmarsh", "northvale")
    }
    expected = {
        entry["guid"]: entry["audio"]["url"] for catalogue in catalogues.values() for entry in catalogue["briefings"]
    }
    # None of the central show's own: the harvested are counted apart.
    assert result.stdout.startswith(f"Published 0 briefing(s) and {len(expected)} harvested to "), result.stdout
    assert f"rendering the archive and feeds of {len(expected)} briefing(s)" in result.stderr.splitlines()
    feed = central / "feed" / "feed.xml"
    parsed = podcastparser.parse(str(feed), feed.open("rb"))
    assert {episode["guid"]: episode["enclosures"][0]["url"] for episode in parsed["episodes"]} == expected
    entries = feedparser.parse(feed.read_bytes()).entries
    assert {entry.id for entry in entries} == set(expected)
    domestic = feedparser.parse((central / "feed" / "feeds" / "domestic-abuse.xml").read_bytes()).entries
    assert [entry.title for entry in domestic] == [catalogues["northvale"]["briefings"][0]["title"]]
    # Each briefing's page in the central archive says where it comes from and plays from there.
    child_b = next(entry for entry in catalogues["northvale"]["briefings"] if entry["slug"] == "child-b")
    page = (central / "feed" / next(entry.link for entry in domestic).split("/", 3)[3]).read_text()
    assert f'<a href="{server.url}northvale/">Safeguarding Practice Briefings</a>' in page
    assert f'<a href="{child_b["page"]}">the briefing there</a>' in page
    assert f'src="{child_b["audio"]["url"]}"' in page
    validated = run(central, "validate")
    assert validated.exit_code == 0, validated.output

    assert child_b["title"].lower() in bundle_text(published_files(central / "feed"))  # searchable

    # Withdrawn at its source: gone from the central show at the next harvest and publish.
    assert run(north, "withdraw", "child-b").exit_code == 0
    assert run(central, "harvest").exit_code == 0
    assert run(central, "publish").exit_code == 0
    guids = {entry.id for entry in feedparser.parse(feed.read_bytes()).entries}
    assert child_b["guid"] not in guids and len(guids) == 2
    assert child_b["title"].lower() not in bundle_text(published_files(central / "feed"))


def test_the_central_archive_plays_and_finds_harvested_briefings_in_a_browser(
    workspace: Path, tmp_path: Path, server: Server, page: Page
) -> None:
    source_show(workspace, tmp_path, server, "westmarsh", "Westmarsh Safeguarding Children Partnership")
    central = central_show(tmp_path, [f"{server.url}westmarsh/feed.xml"])
    assert run(central, "harvest").exit_code == 0
    assert run(central, "publish").exit_code == 0
    lesson = yaml.safe_load((workspace / "episodes" / "child-a" / "briefing.yaml").read_text())["key_lessons"][2]
    with static_server(central / "feed") as site:
        page.goto(site.url + "index.html")
        page.get_by_label("Search titles, summaries, key lessons and transcripts").fill(lesson[:40])
        page.wait_for_selector("#search[data-loaded=all]", state="attached")
        result = page.locator("#results article")
        expect(result).to_have_count(1)
        expect(result.get_by_role("link", name="Safeguarding Practice Briefings")).to_have_attribute(
            "href", f"{server.url}westmarsh/"
        )
        result.get_by_role("link", name=CHILD_A_TITLE).click()
        # The briefing plays from its source (the page's CSP allows that origin, and nothing else).
        # Functions, not expressions: Playwright evaluates an expression with eval, which the page's CSP
        # refuses (its script-src allows WebAssembly to compile, 'wasm-unsafe-eval', never eval).
        page.wait_for_function("() => document.getElementById('player').readyState >= 1")
        assert page.evaluate("() => document.getElementById('player').duration") > 30
        assert page.get_by_role("link", name="the briefing there").get_attribute("href") == (
            f"{server.url}westmarsh/briefings/child-a/index.html"
        )
        page.screenshot(path=str(tmp_path / "central-briefing.png"))
        page.goto("about:blank")  # nothing still loading from the server as it stops


def test_gpodder_subscribes_to_a_central_theme_feed_and_downloads_from_the_source(
    workspace: Path, tmp_path: Path, server: Server
) -> None:
    source_show(workspace, tmp_path, server, "westmarsh", "Westmarsh Safeguarding Children Partnership")
    central = central_show(tmp_path, [f"{server.url}westmarsh/feed.xml"])
    assert run(central, "harvest").exit_code == 0
    assert run(central, "publish").exit_code == 0
    home = tmp_path / "gpodder"
    (home / "downloads").mkdir(parents=True)
    with static_server(central / "feed") as site:
        gpo(home, "subscribe", site.url + "feeds/neglect.xml")
        gpo(home, "update")
        gpo(home, "download")
    [downloaded] = (home / "downloads").rglob("*.mp3")  # Child A, the one briefing on neglect
    [original] = (server.root / "westmarsh" / "media").glob("child-a-*.mp3")
    assert downloaded.read_bytes() == original.read_bytes()


def test_invisible_characters_in_a_harvested_entry_skip_it_and_publish_goes_on(
    workspace: Path, tmp_path: Path, server: Server
) -> None:
    source_show(workspace, tmp_path, server, "westmarsh", "Westmarsh Safeguarding Children Partnership")
    catalogue_path = server.root / "westmarsh" / "catalogue.json"
    catalogue = json.loads(catalogue_path.read_text())
    catalogue["briefings"][0]["title"] = "Child A \x1b[31m\x07 rings a bell"  # a terminal code, no XML can hold
    catalogue["briefings"][1]["lessons"][0] = "Reads \u202eesrever"  # a bidirectional override
    catalogue_path.write_text(json.dumps(catalogue))
    url = f"{server.url}westmarsh/feed.xml"
    central = central_show(tmp_path, [url])
    result = run(central, "harvest")
    assert result.exit_code == 0 and result.stdout == f"{url}: unchanged (0 briefing(s))\n"
    skipped = [line for line in result.stderr.splitlines() if "briefing(s) skipped" in line]
    assert len(skipped) == 2 and all("invisible" in line for line in skipped)
    assert "\x1b" not in result.output and "\u202e" not in result.output
    published = run(central, "publish")
    assert published.exit_code == 0, published.output
