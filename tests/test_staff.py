"""Staff-only briefings (`audience: staff`): never in a public file, yet still the producer's to check."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import re
import shutil
import sqlite3
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from fnmatch import fnmatchcase
from pathlib import Path

import boto3
import feedparser
import podcastparser
import pytest
import yaml
from lxml import etree, html
from playwright.sync_api import Page, Route, expect

from briefings import staff
from briefings.config import load_show
from briefings.site import render_private_index
from briefings.storage import LocalStorage, S3Storage
from tests.conftest import REPO, Problems, run, run_json, serving
from tests.test_gpodder import gpo
from tests.test_s3 import (  # noqa: F401
    PREFIX,
    aws_env,
    bucket,
    client,
    fetch,
    moto,
    new_distribution,
    point_at,
    publish,
    readme_policy,
)
from tests.test_site import CHILD_A, CHILD_B, example_episodes, listed, search_ready

ADDRESS = re.compile(r"^https://briefings\.example\.org/p/([A-Za-z0-9_-]{22})/feed\.xml$")

GZIP = b"\x1f\x8b"
STAFF_SLUG = "rapid-review-q7"
STAFF_TITLE = "Quillwort review: the lodger upstairs"
# Words that appear nowhere in the example show, one from each part of the staff-only briefing.
NEEDLES = (
    STAFF_SLUG,
    "quillwort",
    "zephyrine",  # summary
    "lanternfish",  # key lessons
    "obsidianpelican",  # transcript
    "tangerineabacus",  # chapter title
)


def add_staff_briefing(workspace: Path, slug: str = STAFF_SLUG) -> None:
    """child-a's recording as a staff-only briefing with words found nowhere else."""
    folder = workspace / "episodes" / slug
    shutil.copytree(workspace / "episodes" / "child-a", folder)
    data = yaml.safe_load((folder / "briefing.yaml").read_text())
    data["title"] = STAFF_TITLE
    data["summary"] = "A rapid review held back to protect a family: the zephyrine household was never visited."
    data["key_lessons"] = ["Ask who else lives in the house, lanternfish or not."]
    data["chapters"][1]["title"] = "The tangerineabacus moment"
    data["audience"] = "staff"
    (folder / "briefing.yaml").write_text(yaml.safe_dump(data))
    transcript = folder / "transcript.vtt"
    transcript.write_text(
        transcript.read_text().replace("Child A: the baby nobody saw.", "The obsidianpelican speaks.")
    )


def leaks(files: dict[str, bytes]) -> list[str]:
    """Each needle found in a file's name or bytes (case-insensitive), as `name: needle`; the files of a
    search bundle, which Pagefind compresses, as the browser reads them."""
    found = []
    for name, data in files.items():
        if data.startswith(GZIP):
            data = gzip.decompress(data)
        text = name.lower().encode() + b"\n" + data.lower()
        found += [f"{name}: {needle}" for needle in NEEDLES if needle.encode() in text]
    return found


def folder_files(root: Path) -> dict[str, bytes]:
    return {str(path.relative_to(root)): path.read_bytes() for path in root.rglob("*") if path.is_file()}


@pytest.fixture
def staff_workspace(workspace: Path) -> Path:
    add_staff_briefing(workspace)
    return workspace


def test_staff_only_briefing_is_in_no_published_file(staff_workspace: Path) -> None:
    result, summary = run_json(staff_workspace, "publish")
    assert result.exit_code == 0, result.output
    assert STAFF_SLUG not in summary["episodes"]
    files = folder_files(staff_workspace / "feed")
    assert "feed.xml" in files and ".briefings/manifest.json" in files and "catalogue.json" in files
    # The public briefings are still there: the check below is not vacuous.
    assert b"Child A: the baby nobody saw" in files["feed.xml"]
    assert leaks(files) == []


def test_status_and_check_still_report_the_staff_briefing(staff_workspace: Path) -> None:
    assert run(staff_workspace, "publish").exit_code == 0
    result = run(staff_workspace, "check", STAFF_SLUG)
    assert result.exit_code == 0, result.output
    result, status = run_json(staff_workspace, "status")
    (item,) = [item for item in status["briefings"] if item["slug"] == STAFF_SLUG]
    assert (
        item["detail"] == "staff only: in no public file; in no private feed yet (`briefings staff add`, then publish)"
    )
    assert STAFF_SLUG not in status["due"]
    assert run(staff_workspace, "status", "--check").exit_code == 0
    add_subscriber(staff_workspace, "Sam Patel")
    assert run(staff_workspace, "publish").exit_code == 0
    (item,) = [item for item in run_json(staff_workspace, "status")[1]["briefings"] if item["slug"] == STAFF_SLUG]
    assert item["detail"] == "staff only: in no public file; in 1 private feed(s)"


def test_a_public_briefing_made_staff_only_leaves_the_public_feeds(workspace: Path) -> None:
    briefing = workspace / "episodes" / "child-b" / "briefing.yaml"
    briefing.write_text(briefing.read_text() + "audience: staff\n")
    result, summary = run_json(workspace, "publish")
    assert result.exit_code == 0, result.output
    assert summary["withdrawn_now"] == ["child-b"]
    assert b"Child B" not in (workspace / "feed" / "feed.xml").read_bytes()
    assert not list((workspace / "feed" / "media").glob("child-b-*"))
    # Public again: back in the feed with its GUID.
    briefing.write_text(briefing.read_text().replace("audience: staff\n", ""))
    result, summary = run_json(workspace, "publish")
    assert result.exit_code == 0, result.output
    assert "child-b" in summary["episodes"]


def test_an_unknown_audience_names_the_field_and_the_choices(workspace: Path) -> None:
    briefing = workspace / "episodes" / "child-b" / "briefing.yaml"
    briefing.write_text(briefing.read_text() + "audience: staf\n")
    result = run(workspace, "check", "child-b")
    assert result.exit_code == 1
    assert "audience" in result.output and "'public'" in result.output and "'staff'" in result.output


def bucket_files(moto: str, bucket: str) -> dict[str, bytes]:  # noqa: F811
    """Every object in the bucket (not only under the prefix), by key, with its bytes."""
    s3 = client(moto)
    listing = s3.list_objects_v2(Bucket=bucket)  # type: ignore[attr-defined]
    return {
        item["Key"]: s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()  # type: ignore[attr-defined]
        for item in listing.get("Contents", [])
    }


def test_staff_only_briefing_is_in_no_object_of_the_bucket(staff_workspace: Path, moto: str, bucket: str) -> None:  # noqa: F811
    point_at(staff_workspace, moto, bucket)
    result, _ = publish(staff_workspace, moto, bucket)
    assert result.exit_code == 0, result.output
    files = bucket_files(moto, bucket)
    assert f"{PREFIX}/feed.xml" in files and b"Child A: the baby nobody saw" in files[f"{PREFIX}/feed.xml"]
    # Everything else is the private state, beside the prefix README's policy makes public.
    assert {key for key in files if not key.startswith(f"{PREFIX}/")} == {f"{PREFIX}-private/staff.json"}
    assert leaks({key: data for key, data in files.items() if key.startswith(f"{PREFIX}/")}) == []


def add_subscriber(workspace: Path, name: str, *options: str) -> str:
    """`briefings staff add`; the token in the address it printed last (after their archive's)."""
    result = run(workspace, "staff", "add", name, *options)
    assert result.exit_code == 0, result.output
    match = ADDRESS.match(result.stdout.splitlines()[-1])
    assert match, result.stdout
    assert result.stdout.splitlines()[-2] == (
        f"Private archive (a web page): https://briefings.example.org/p/{match[1]}/index.html"
    )
    return match[1]


def test_staff_add_list_rotate_revoke_keep_only_hashes_beside_the_folder(workspace: Path) -> None:
    token = add_subscriber(workspace, "Sam Patel", "--email", "sam.patel@westmarsh.gov.uk", "--expires", "2099-03-31")
    state_file = workspace / "feed-private" / "staff.json"
    state = json.loads(state_file.read_text())
    record = state["subscribers"]["Sam Patel"]
    assert record["token_sha256"] == hashlib.sha256(token.encode()).hexdigest()
    assert token not in state_file.read_text()
    # Their folder, with a page saying their archive comes with the next publish: where the token is kept.
    placeholder = workspace / "feed" / "p" / token / "index.html"
    assert b"comes with the next publish" in placeholder.read_bytes()
    assert record["email"] == "sam.patel@westmarsh.gov.uk" and record["expires"] == "2099-03-31"
    assert not list((workspace / "feed").rglob("staff.json"))
    result = run(workspace, "staff", "list", "--json")
    assert result.exit_code == 0, result.output
    assert token not in result.output and hashlib.sha256(token.encode()).hexdigest() not in result.output
    (listed,) = json.loads(result.stdout)
    assert listed | {"created": ""} == {"name": "Sam Patel", "email": "sam.patel@westmarsh.gov.uk",
                                       "expires": "2099-03-31", "status": "active", "created": ""}  # fmt: skip

    result = run(workspace, "staff", "rotate", "Sam Patel")
    assert result.exit_code == 0, result.output
    new = ADDRESS.match(result.stdout.splitlines()[-1])
    assert new and new[1] != token
    assert result.stdout.splitlines()[:2] == [
        "New addresses for Sam Patel; the old ones are deleted.",
        f"Private archive (a web page): https://briefings.example.org/p/{new[1]}/index.html",
    ]
    assert new[1] not in state_file.read_text()
    assert not placeholder.parent.exists() and (workspace / "feed" / "p" / new[1] / "index.html").is_file()

    result = run(workspace, "staff", "revoke", "Sam Patel")
    assert result.exit_code == 0, result.output
    assert new[1] not in result.output and not (workspace / "feed" / "p").exists()
    (listed,) = json.loads(run(workspace, "staff", "list", "--json").stdout)
    assert listed["status"] == "revoked"
    assert new[1] not in state_file.read_text()


def test_staff_commands_refuse_bad_input_in_one_line(workspace: Path) -> None:
    add_subscriber(workspace, "Sam Patel")
    cases = {
        ("add", "Sam Patel"): "Error: Sam Patel: already a subscriber (fix: choose another name, or give them a new "
        "address with `briefings staff rotate 'Sam Patel'`)",
        ("add", "Jo", "--email", "jo-at-home"): "Error: --email 'jo-at-home': not an email address (fix: give one "
        "like name@example.org)",
        ("add", "Jo", "--expires", "31/03/2027"): "Error: --expires '31/03/2027': not a date (fix: give YYYY-MM-DD, "
        "e.g. 2027-03-31)",
        ("add", "Jo", "--expires", "2001-01-01"): "Error: --expires 2001-01-01: already past (fix: give today or a "
        "later date, YYYY-MM-DD)",
        ("revoke", "Jo"): "Error: Jo: no such subscriber (fix: choose one of: 'Sam Patel'; see `briefings staff list`)",
        ("rotate", " "): "Error: NAME ' ': not a name (fix: give the subscriber's name, 1 to 100 printable "
        'characters, e.g. "Sam Patel, health visiting")',
    }
    for arguments, message in cases.items():
        result = run(workspace, "staff", *arguments)
        assert (result.exit_code, result.stderr.splitlines()) == (2, [message]), arguments
        assert "Traceback" not in result.output


def test_two_workspaces_adding_subscribers_at_once_lose_none(workspace: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    shutil.copytree(workspace, other, symlinks=True)
    destination = tmp_path / "site"
    command = [sys.executable, "-m", "briefings", "staff", "add", "--to", str(destination), "-C"]
    processes = [
        subprocess.Popen([*command, str(space), f"{space.name} {number}"], stderr=subprocess.PIPE, cwd=REPO)
        for number in range(4)
        for space in (workspace, other)
    ]
    for process in processes:
        _, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
    state = json.loads((tmp_path / "site-private" / "staff.json").read_text())
    assert len(state["subscribers"]) == 8


def test_two_producers_adding_to_a_bucket_at_once_lose_none(moto: str, bucket: str) -> None:  # noqa: F811
    now = datetime(2026, 12, 1, tzinfo=UTC)
    barrier = threading.Barrier(8)
    errors: list[BaseException] = []

    def one(number: int) -> None:
        storage = S3Storage(client(moto), bucket, PREFIX)
        barrier.wait()
        try:
            staff.add(storage, f"Subscriber {number}", None, None, now)
        except BaseException as error:  # reported below, with the others
            errors.append(error)

    threads = [threading.Thread(target=one, args=(number,)) for number in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    listed = staff.subscribers(S3Storage(client(moto), bucket, PREFIX))
    assert sorted(subscriber.name for subscriber in listed) == [f"Subscriber {number}" for number in range(8)]
    # The state sits beside the public prefix, where README's policy grants no one anything; each
    # subscriber's folder (its placeholder page) is under the prefix, named by the token the state only hashes.
    keys = [item["Key"] for item in client(moto).list_objects_v2(Bucket=bucket)["Contents"]]  # type: ignore[attr-defined]
    state = f"{PREFIX}-private/staff.json"
    folders = {key.split("/")[2] for key in keys if key != state}
    assert [key for key in keys if not key.startswith(f"{PREFIX}/p/")] == [state]
    assert {hashlib.sha256(token.encode()).hexdigest() for token in folders} == {
        subscriber.token_sha256 for subscriber in listed
    }
    policy = json.loads(readme_policy(bucket))
    readable = [statement["Resource"].removeprefix("arn:aws:s3:::") for statement in policy["Statement"]]
    assert not any(fnmatchcase(f"{bucket}/{state}", pattern) for pattern in readable)
    assert all(fnmatchcase(f"{bucket}/{PREFIX}/feed.xml", pattern) for pattern in readable)


def test_private_state_is_never_under_the_public_folder_or_prefix(tmp_path: Path, moto: str) -> None:  # noqa: F811
    assert staff.private_storage(LocalStorage(tmp_path / "feed")).root == (tmp_path / "feed-private").resolve()  # type: ignore[attr-defined]
    private = staff.private_storage(S3Storage(client(moto), "b", "podcast", acl="public-read"))
    assert isinstance(private, S3Storage) and private.prefix == "podcast-private" and private.acl is None


PRIVATE = re.compile(r"^(p/[A-Za-z0-9_-]{22}/|m/[0-9a-f]{32}/)")
NS = {"itunes": "http://www.itunes.com/dtds/podcast-1.0.dtd", "podcast": "https://podcastindex.org/namespace/1.0"}


def public_only(files: dict[str, bytes], prefix: str = "") -> dict[str, bytes]:
    """The files anyone can find: all but the private feeds and staff-only files (whose names are still
    checked: a name is all anyone without the address sees)."""
    found = {}
    for key, data in files.items():
        private = PRIVATE.match(key.removeprefix(prefix))
        found[key] = b"" if private else data
    return found


def test_a_subscriber_feed_lists_every_briefing_and_asks_not_to_be_listed(staff_workspace: Path) -> None:
    token = add_subscriber(staff_workspace, "Sam Patel")
    other = add_subscriber(staff_workspace, "Jo Bloggs")
    result, summary = run_json(staff_workspace, "publish")
    assert result.exit_code == 0, result.output
    assert summary["private_feeds"] == 2 and token not in result.output
    output = staff_workspace / "feed"
    feed = output / "p" / token / "feed.xml"
    parsed = feedparser.parse(feed.read_bytes())
    assert not parsed.bozo, parsed.get("bozo_exception")
    titles = sorted(entry.title for entry in parsed.entries)
    assert titles == sorted(
        [STAFF_TITLE, "Child A: the baby nobody saw", "Child B: the voice of the child in a violent home"]
    )
    podcast = podcastparser.parse(f"https://briefings.example.org/p/{token}/feed.xml", io.BytesIO(feed.read_bytes()))
    (staff_item,) = [episode for episode in podcast["episodes"] if episode["title"] == STAFF_TITLE]
    (enclosure,) = staff_item["enclosures"]
    media = output / enclosure["url"].removeprefix("https://briefings.example.org/")
    assert media.is_file() and PRIVATE.match(media.relative_to(output).as_posix())
    channel = etree.parse(str(feed)).getroot().find("channel")
    assert channel.findtext("itunes:block", namespaces=NS) == "Yes"
    assert channel.findtext("podcast:block", namespaces=NS) == "yes"
    self_link = channel.find("{http://www.w3.org/2005/Atom}link[@rel='self']")
    assert self_link.get("href") == f"https://briefings.example.org/p/{token}/feed.xml"
    assert (output / "p" / other / "feed.xml").is_file()
    # Nothing anyone can find names the staff-only briefing, not even the names of the private files.
    files = folder_files(output)
    assert leaks(public_only(files)) == []
    # Nor does any public file name a private address or folder (the manifest lists only public objects).
    folder = media.relative_to(output).parts[1].encode()
    assert [name for name, data in public_only(files).items() if token.encode() in data or folder in data] == []
    assert not [key for key in json.loads(files[".briefings/manifest.json"])["objects"] if PRIVATE.match(key)]
    assert b"itunes:block" not in files["feed.xml"]
    validated = run(staff_workspace, "validate", str(feed))
    assert validated.exit_code == 0, validated.output
    # Publishing again changes nothing; a new subscriber is written by the next publish, not skipped.
    assert run_json(staff_workspace, "publish")[1]["written"] == []
    third = add_subscriber(staff_workspace, "Kim Lee")
    result, summary = run_json(staff_workspace, "publish")
    assert summary["private_written"] == 2 and (output / "p" / third / "feed.xml").is_file()
    assert (output / "p" / third / "index.html").read_bytes() == (output / "p" / token / "index.html").read_bytes()


def test_a_subscriber_archive_lists_every_briefing_and_links_the_staff_only_page(staff_workspace: Path) -> None:
    token = add_subscriber(staff_workspace, "Sam Patel")
    assert run(staff_workspace, "publish").exit_code == 0
    output = staff_workspace / "feed"
    index = output / "p" / token / "index.html"
    archive = html.fromstring(index.read_bytes())
    links = {link.text: link.get("href") for link in archive.xpath("//section[@id='all']//h3/a")}
    assert sorted(links) == sorted([STAFF_TITLE, CHILD_A, CHILD_B])
    assert archive.xpath("//section[@id='all']//article[p[@class='staff-only']]//h3/a/text()") == [STAFF_TITLE]
    # The public briefings' own pages; the staff-only one's under its private folder.
    assert links[CHILD_A] == "../../briefings/child-a/index.html"
    staff_page = (index.parent / links[STAFF_TITLE]).resolve()
    assert PRIVATE.match(staff_page.relative_to(output).as_posix()) and staff_page.name == "index.html"
    feed = etree.parse(str(index.parent / "feed.xml")).getroot()
    assert feed.findtext("channel/link") == f"https://briefings.example.org/p/{token}/index.html"

    page = html.fromstring(staff_page.read_bytes())
    assert page.findtext(".//h1") == STAFF_TITLE
    assert page.xpath("//ol[@class='lessons']/li/text()") == ["Ask who else lives in the house, lanternfish or not."]
    assert "The tangerineabacus moment" in page.text_content() and "obsidianpelican" in page.text_content()
    assert page.xpath("//p[@class='staff-only']") and not page.xpath("//h2[.='Subscribe']")
    for private_page in (archive, page):
        assert private_page.xpath("//meta[@name='robots']/@content") == ["noindex, nofollow"]
        assert private_page.xpath("//meta[@name='referrer']/@content") == ["no-referrer"]
    # Every relative address on both pages names a published file (the searches' folders their entry file).
    for path, tree in ((index, archive), (staff_page, page)):
        for reference in tree.xpath("//@href | //@src | //@data-search"):
            if "://" not in reference and not reference.startswith("#"):
                target = (path.parent / reference.split("?")[0].split("#")[0]).resolve()
                assert (target / "index.html" if reference.endswith("/") else target).is_file(), reference
    [merged] = archive.xpath("//form[@id='search']/@data-merge")
    search = (index.parent / merged).resolve()
    assert (search / "pagefind-entry.json").is_file() and PRIVATE.match(search.relative_to(output).as_posix())

    # The staff-only words are in the private search, and in nothing anyone else can find, the public search
    # included; no public file names a private folder.
    files = folder_files(output)
    assert "lanternfish" in " ".join(leaks(folder_files(search)))
    assert leaks(public_only(files)) == []
    folders = [folder.name.encode() for folder in (output / "m").iterdir()] + [token.encode()]
    assert [name for name, data in public_only(files).items() if any(folder in data for folder in folders)] == []


def test_a_private_archive_of_several_pages_keeps_its_links_in_the_subscriber_folder(published: Path) -> None:
    public, other = example_episodes(published)
    hidden = replace(other, slug="staff-one", page_key="m/0123/index.html", media_key="m/0123/a.mp3",
                     briefing=other.briefing.model_copy(update={"audience": "staff"}))  # fmt: skip
    searches = ["pagefind/pagefind.js", "m/4567/pagefind/pagefind.js"]
    files = render_private_index(load_show(published), [public, hidden], searches, ["en-gb_1a2b3c4"], up="../../",
                                 feed_name="feed.xml", page_size=1)  # fmt: skip
    assert sorted(files) == ["index.html", "page/2/index.html"]
    pages = [html.fromstring(files[key]) for key in sorted(files)]
    # Pages of the same archive are reached within the subscriber's folder; the rest from the site root.
    assert [page.xpath("//nav[@class='pages']//a[@rel]/@href") for page in pages] == [
        ["page/2/index.html"],
        ["../../index.html"],
    ]
    second = pages[1]
    assert second.xpath("//link[@rel='alternate']/@href") == ["../../feed.xml"]
    assert second.xpath("//link[@rel='stylesheet']/@href")[0].startswith("../../../../style.css?v=")
    (script,) = second.xpath("//form/@data-search")
    assert re.fullmatch(r"\.\./\.\./\.\./\.\./pagefind/pagefind\.js\?v=[0-9a-f]{10}", script), script
    assert second.xpath("//form/@data-merge") == ["../../../../m/4567/pagefind/"]
    # The staff-only results, whose records archive.js fetches from the merged bundle's folder.
    assert second.xpath("//form/@data-merged-results") == ["en-gb_1a2b3c4"]
    assert hidden.published > public.published  # child-b's copy, newest first
    assert [page.xpath("//section[@id='all']//h3/a/@href") for page in pages] == [
        ["../../m/0123/index.html"],
        [f"../../../../{public.page_key}"],
    ]


def test_a_subscriber_finds_a_staff_only_lesson_in_their_archive_and_opens_its_page(
    staff_workspace: Path, page: Page, problems: Problems
) -> None:
    # Published between the two public briefings: a filter's list merges both bundles' lists by time.
    briefing = staff_workspace / "episodes" / STAFF_SLUG / "briefing.yaml"
    data = yaml.safe_load(briefing.read_text())
    data["review"]["published"] = "2026-04-20T09:00:00+00:00"
    briefing.write_text(yaml.safe_dump(data))
    token = add_subscriber(staff_workspace, "Sam Patel")
    assert run(staff_workspace, "publish").exit_code == 0
    with serving(staff_workspace) as base:
        address = f"{base}p/{token}/index.html"
        page.goto(address)
        expect(page.locator("#all p.staff-only")).to_have_text(["Staff only"])
        query = page.get_by_label("Search titles, summaries, key lessons and transcripts")
        query.fill("lanternfish")  # in the staff-only briefing's key lesson alone
        search_ready(page)
        listed(page, "#results", [STAFF_TITLE])
        expect(page.locator("#results p.staff-only")).to_have_text(["Staff only"])
        query.fill("violent")  # the public search is searched too
        listed(page, "#results", [CHILD_B])

        # A bucket that does not let everyone list it answers 403, not 404, for a file it does not have (the
        # merged bundle has no list for a theme no staff-only briefing has): as S3 answers, at the network edge.
        def as_s3(route: Route) -> None:
            response = route.fetch()
            route.fulfill(response=response, status=403 if response.status == 404 else response.status)

        lists = re.compile(r".*/pagefind/list/.*")
        page.route(lists, as_s3)
        query.fill("")
        page.get_by_label("Year").select_option("2026")
        listed(page, "#results", [CHILD_B, STAFF_TITLE, CHILD_A])  # newest first, from both bundles
        page.get_by_label("Year").select_option("")
        page.get_by_label("Theme").select_option("domestic abuse")  # child-b's alone
        listed(page, "#results", [CHILD_B])
        page.get_by_label("Theme").select_option("")
        # The 403 (and Chromium's console line for it) and nothing else went wrong.
        assert problems and all("/list/theme/" + b"domestic abuse".hex() in problem for problem in problems)
        problems.clear()
        page.unroute(lists, as_s3)
        query.fill("lanternfish")
        listed(page, "#results", [STAFF_TITLE])
        page.locator("#results h3 a").click()
        expect(page.locator("h1")).to_have_text(STAFF_TITLE)
        assert PRIVATE.match(page.url.removeprefix(base))
        expect(page.locator("ol.lessons li")).to_have_text(["Ask who else lives in the house, lanternfish or not."])
        # Its audio loads from the private folder, and plays from a chapter's start.
        page.wait_for_function("() => document.getElementById('player').duration > 30")
        page.locator("button.chapter", has_text="The tangerineabacus moment").click()
        page.wait_for_selector("button.chapter[aria-current]")
        assert page.inner_text("button.chapter[aria-current]").endswith("The tangerineabacus moment")

        assert run(staff_workspace, "staff", "revoke", "Sam Patel").exit_code == 0
        with pytest.raises(urllib.error.HTTPError) as gone:
            urllib.request.urlopen(address, timeout=10)
        assert gone.value.code == 404


def test_revoke_deletes_the_feed_at_once_and_a_withdrawn_staff_briefing_leaves_every_feed(
    staff_workspace: Path,
) -> None:
    token = add_subscriber(staff_workspace, "Sam Patel")
    other = add_subscriber(staff_workspace, "Jo Bloggs")
    assert run(staff_workspace, "publish").exit_code == 0
    output = staff_workspace / "feed"
    assert run(staff_workspace, "staff", "revoke", "Sam Patel").exit_code == 0
    assert not (output / "p" / token).exists()
    # Past its withdraw_after date: gone from the remaining feed, and its files deleted.
    briefing = staff_workspace / "episodes" / STAFF_SLUG / "briefing.yaml"
    briefing.write_text(briefing.read_text() + "withdraw_after: 2026-06-01\n")
    result, summary = run_json(staff_workspace, "publish")
    assert summary["private_feeds"] == 1
    assert result.exit_code == 0, result.output
    assert STAFF_TITLE.encode() not in (output / "p" / other / "feed.xml").read_bytes()
    assert STAFF_TITLE.encode() not in (output / "p" / other / "index.html").read_bytes()
    assert not (output / "m").exists()  # its files, its page and the private search
    assert not (output / "p" / token).exists()


def test_revoke_with_rotate_media_moves_the_staff_only_files(staff_workspace: Path) -> None:
    add_subscriber(staff_workspace, "Sam Patel")
    other = add_subscriber(staff_workspace, "Jo Bloggs")
    assert run(staff_workspace, "publish").exit_code == 0
    output = staff_workspace / "feed"
    # The briefing's folder (its files and page) and the private search's.
    before = {folder.name: folder_files(folder) for folder in (output / "m").iterdir()}
    assert len(before) == 2
    result = run(staff_workspace, "staff", "revoke", "Sam Patel", "--rotate-media")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1].startswith("Moved the staff-only files to new addresses: ")
    after = {folder.name: folder_files(folder) for folder in (output / "m").iterdir()}
    assert len(after) == 2 and not set(after) & set(before)  # the old addresses answer nothing
    # The same files (they name their own new addresses, so their bytes change too) in the new folders.
    suffixes = sorted(sorted(Path(name).suffix for name in files) for files in before.values())
    assert sorted(sorted(Path(name).suffix for name in files) for files in after.values()) == suffixes
    feed = (output / "p" / other / "feed.xml").read_text()
    archive = (output / "p" / other / "index.html").read_text()
    for folder in after:
        assert f"/m/{folder}/" in feed or f"/m/{folder}/" in archive
    assert not [folder for folder in before if f"/m/{folder}/" in feed + archive]


def test_staff_only_briefing_and_its_feeds_in_a_bucket(staff_workspace: Path, moto: str, bucket: str) -> None:  # noqa: F811
    point_at(staff_workspace, moto, bucket)
    env = aws_env(moto)
    to = ["--to", f"s3://{bucket}/{PREFIX}"]
    added = run(staff_workspace, "staff", "add", "Sam Patel", *to, env=env)
    assert added.exit_code == 0, added.output
    address = added.stdout.splitlines()[-1]
    result, _ = publish(staff_workspace, moto, bucket)
    assert result.exit_code == 0, result.output
    files = bucket_files(moto, bucket)
    private = {key for key in files if PRIVATE.match(key.removeprefix(f"{PREFIX}/"))}
    assert len(private) >= 3  # the feed, the audio, the chapters...
    assert (
        leaks(public_only({key: data for key, data in files.items() if key.startswith(f"{PREFIX}/")}, f"{PREFIX}/"))
        == []
    )
    assert STAFF_TITLE.encode() in fetch(address)
    archive = added.stdout.splitlines()[-2].rsplit(" ", 1)[1]
    assert archive == address.replace("feed.xml", "index.html") and STAFF_TITLE.encode() in fetch(archive)
    token = address.split("/p/")[1].split("/")[0].encode()
    assert [
        key for key in files if key.startswith(f"{PREFIX}/") and token in public_only(files, f"{PREFIX}/")[key]
    ] == []
    distribution = new_distribution(moto, bucket)
    revoked = run(staff_workspace, "staff", "revoke", "Sam Patel", *to, "--invalidate-cdn", distribution, env=env)
    assert revoked.exit_code == 0, revoked.output
    for gone in (address, archive):
        with pytest.raises(urllib.error.HTTPError):
            fetch(gone)
    # The CDN drops its copies of both (and of the folder address that serves the archive); the command
    # prints how many paths, never one (each holds the token).
    line = revoked.stdout.splitlines()[-1]
    assert re.fullmatch(rf"CDN: {distribution} drops its copies of 3 path\(s\) \(invalidation \w+\)", line), line
    assert token.decode() not in revoked.output
    cloudfront = boto3.client("cloudfront", endpoint_url=moto, region_name="us-east-1", aws_access_key_id="x",
                              aws_secret_access_key="y")  # fmt: skip
    batch = cloudfront.get_invalidation(DistributionId=distribution, Id=line.rsplit(" ", 1)[1].rstrip(")"))
    folder = f"/{bucket}/{PREFIX}/p/{token.decode()}/"
    paths = batch["Invalidation"]["InvalidationBatch"]["Paths"]["Items"]
    assert sorted(paths) == [folder, folder + "feed.xml", folder + "index.html"]


def test_gpodder_hears_a_staff_only_briefing_until_revoked(staff_workspace: Path, tmp_path: Path) -> None:
    token = add_subscriber(staff_workspace, "Sam Patel")
    assert run(staff_workspace, "publish").exit_code == 0
    output = staff_workspace / "feed"
    home = tmp_path / "gpodder"
    (home / "downloads").mkdir(parents=True)
    with serving(staff_workspace) as base:
        address = f"{base}p/{token}/feed.xml"
        gpo(home, "subscribe", address)
        first = gpo(home, "update")
        assert "[DONE]" in first and "3 new episodes" in first, first
        gpo(home, "download")
        database = sqlite3.connect(home / "Database")
        rows = database.execute(
            "SELECT episode.title, episode.url, podcast.download_folder, episode.download_filename "
            "FROM episode JOIN podcast ON podcast.id = episode.podcast_id"
        ).fetchall()
        database.close()
        (staff_row,) = [row for row in rows if row[0] == STAFF_TITLE]
        assert len(rows) == 3
        media = output / staff_row[1].removeprefix(base)
        downloaded = home / "downloads" / staff_row[2] / staff_row[3]
        assert downloaded.is_file() and downloaded.read_bytes() == media.read_bytes()

        assert run(staff_workspace, "staff", "revoke", "Sam Patel").exit_code == 0
        # gpo exits 0 even when an update fails: its output says so.
        updated = gpo(home, "update")
    assert "[FAIL]" in updated and "[DONE]" not in updated, updated


def test_an_error_writing_a_private_feed_never_prints_its_address(staff_workspace: Path) -> None:
    token = add_subscriber(staff_workspace, "Sam Patel")
    (staff_workspace / "feed" / "p" / token / "feed.xml").mkdir()  # in the way
    result = run(staff_workspace, "publish")
    assert result.exit_code == 1
    assert token not in result.output and "/p/<secret>/feed.xml: cannot write" in result.stderr, result.stderr
    assert "Traceback" not in result.output


def test_an_expired_subscriber_feed_is_deleted_by_the_next_publish(
    staff_workspace: Path, travel: Callable[[str], None]
) -> None:
    token = add_subscriber(staff_workspace, "Sam Patel", "--expires", "2098-12-31")
    other = add_subscriber(staff_workspace, "Jo Bloggs")
    assert run(staff_workspace, "publish").exit_code == 0
    assert (staff_workspace / "feed" / "p" / token / "feed.xml").is_file()
    travel("2099-01-01T09:00:00+00:00")
    result, summary = run_json(staff_workspace, "publish")
    assert result.exit_code == 0, result.output
    assert summary["private_feeds"] == 1 and summary["private_deleted"] == 2  # their feed and archive
    assert not (staff_workspace / "feed" / "p" / token).exists()
    assert (staff_workspace / "feed" / "p" / other / "feed.xml").is_file()
    (listed, _) = sorted(
        json.loads(run(staff_workspace, "staff", "list", "--json").stdout), key=lambda item: item["name"]
    )
    assert listed["name"] == "Jo Bloggs" and listed["status"] == "active"


def test_withdraw_of_a_staff_only_briefing_says_how_to_take_it_out_of_the_private_feeds(staff_workspace: Path) -> None:
    result = run(staff_workspace, "withdraw", STAFF_SLUG)
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"Error: {STAFF_SLUG}: staff-only, so in no public feed; `withdraw` would name it in the public manifest "
        f"(fix: to take it out of the private feeds, set its `withdraw_after` date, or move episodes/{STAFF_SLUG}/ "
        "out of the workspace, and publish)"
    ]
    assert STAFF_SLUG.encode() not in (staff_workspace / "feed" / ".briefings" / "manifest.json").read_bytes()


def test_a_publish_finds_each_subscriber_folder_by_its_hash_and_the_state_keeps_no_address(
    staff_workspace: Path,
) -> None:
    token = add_subscriber(staff_workspace, "Sam Patel")
    lost = add_subscriber(staff_workspace, "Jo Bloggs")
    output = staff_workspace / "feed"
    shutil.rmtree(output / "p" / lost)  # deleted at the destination by hand
    stray = output / "p" / ("A" * 22) / "feed.xml"  # a folder whose token no subscriber's hash matches
    stray.parent.mkdir()
    stray.write_text("<rss/>")
    result = run(staff_workspace, "publish")
    assert result.exit_code == 0, result.output
    assert STAFF_TITLE.encode() in (output / "p" / token / "feed.xml").read_bytes()
    assert not stray.parent.exists() and not (output / "p" / lost).exists()
    assert (
        "warning: Jo Bloggs: their private folder is gone from the destination, so they have no feed (fix: "
        "`briefings staff rotate 'Jo Bloggs'` and send them the new address)"
    ) in result.stderr.splitlines()
    state = (staff_workspace / "feed-private" / "staff.json").read_text()
    assert token not in state and lost not in state
    new = ADDRESS.match(run(staff_workspace, "staff", "rotate", "Jo Bloggs").stdout.splitlines()[-1])
    assert new is not None
    result = run(staff_workspace, "publish")
    assert result.exit_code == 0 and "warning" not in result.stderr, result.output
    assert STAFF_TITLE.encode() in (output / "p" / new[1] / "feed.xml").read_bytes()
    assert new[1] not in (staff_workspace / "feed-private" / "staff.json").read_text()


def test_a_state_written_before_forgets_the_addresses_it_kept(staff_workspace: Path) -> None:
    token = add_subscriber(staff_workspace, "Sam Patel")
    assert run(staff_workspace, "publish").exit_code == 0
    state_file = staff_workspace / "feed-private" / "staff.json"
    state = json.loads(state_file.read_text())
    # As version 1 wrote it: each feed's key, and the files of subscriber folders among the objects.
    record = state["subscribers"]["Sam Patel"]
    del record["published"]
    state |= {"version": 1}
    record["feed_key"] = f"p/{token}/feed.xml"
    state["objects"][f"p/{token}/feed.xml"] = {"sha256": "0" * 64, "size": 1}
    state_file.write_text(json.dumps(state))
    feed = staff_workspace / "feed" / "p" / token / "feed.xml"
    feed.unlink()
    result = run(staff_workspace, "publish")
    assert result.exit_code == 0, result.output
    assert STAFF_TITLE.encode() in feed.read_bytes()
    assert token not in state_file.read_text() and json.loads(state_file.read_text())["version"] == 2


def test_an_address_that_cannot_be_made_is_never_given_and_the_old_one_stays(workspace: Path) -> None:
    state_file = workspace / "feed-private" / "staff.json"
    token = add_subscriber(workspace, "Sam Patel")
    kept = workspace / "feed" / "p-kept"
    (workspace / "feed" / "p").rename(kept)
    (workspace / "feed" / "p").write_text("in the way")  # no folder can be made under p/
    for arguments in (("add", "Jo Bloggs"), ("rotate", "Sam Patel")):
        result = run(workspace, "staff", *arguments)
        assert result.exit_code == 1, result.output
        (line,) = result.stderr.splitlines()
        assert "/p/<secret>/index.html: cannot write" in line and "Traceback" not in result.output, line
        assert "p/" not in result.stdout  # no address printed
    state = json.loads(state_file.read_text())
    assert list(state["subscribers"]) == ["Sam Patel"]
    assert state["subscribers"]["Sam Patel"]["token_sha256"] == hashlib.sha256(token.encode()).hexdigest()
