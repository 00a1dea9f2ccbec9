"""Every show can be harvested without loss: the briefings namespace in each feed item, and the catalogue of
every published briefing with a tombstone for each withdrawn one."""

from __future__ import annotations

import json
import shutil
from datetime import datetime, timedelta
from pathlib import Path

import yaml
from lxml import etree

from briefings import Workspace
from briefings.namespace import CATALOGUE_KEY, NAMESPACE
from tests.conftest import run

NOW = datetime.fromisoformat("2027-01-10T09:00:00+00:00")
BASE = "https://briefings.example.org/"


def catalogue(workspace: Path) -> dict:
    return json.loads((workspace / "feed" / CATALOGUE_KEY).read_text(encoding="utf-8"))


def test_the_catalogue_lists_every_briefing_with_its_feeds_and_a_tombstone_for_each_withdrawn_one(
    workspace: Path,
) -> None:
    # A briefing under embargo: in no feed and not in the catalogue, not even its name.
    folder = workspace / "episodes" / "child-z"
    shutil.copytree(workspace / "episodes" / "child-a", folder)
    data = yaml.safe_load((folder / "briefing.yaml").read_text())
    data["review"]["published"] = (NOW + timedelta(days=1)).isoformat()
    (folder / "briefing.yaml").write_text(yaml.safe_dump(data, allow_unicode=True))
    Workspace(workspace, now=NOW).publish()
    listed = catalogue(workspace)
    assert [entry["slug"] for entry in listed["briefings"]] == ["child-b", "child-a"]  # newest first
    assert "child-z" not in (workspace / "feed" / CATALOGUE_KEY).read_text()
    assert listed["withdrawn"] == []
    show = listed["show"]
    assert show["feed"] == BASE + "feed.xml" and show["publisher"] == "Safeguarding Practice Briefings editorial team"
    child_a = next(entry for entry in listed["briefings"] if entry["slug"] == "child-a")
    briefing = yaml.safe_load((workspace / "episodes" / "child-a" / "briefing.yaml").read_text())
    assert child_a["lessons"] == briefing["key_lessons"] and child_a["themes"] == briefing["themes"]
    assert child_a["review"]["partnership"] == briefing["review"]["partnership"]
    assert set(child_a["feeds"]) == {
        BASE + "feed.xml",
        BASE + "feeds/neglect.xml",
        BASE + "feeds/professional-curiosity.xml",
        BASE + "feeds/information-sharing.xml",
        BASE + "feeds/review-type/local-child-safeguarding-practice-review.xml",
    }
    # Every feed links the catalogue; the GUIDs in the feed and the catalogue agree.
    feed = etree.parse(workspace / "feed" / "feed.xml").getroot().find("channel")
    assert feed.find(f"{{{NAMESPACE}}}catalogue").get("url") == BASE + CATALOGUE_KEY
    assert [guid.text for guid in feed.iter("guid")] == [entry["guid"] for entry in listed["briefings"]]

    # Withdrawn: gone from the list, and a tombstone with the GUID apps know it by.
    Workspace(workspace, now=NOW + timedelta(minutes=1)).withdraw("child-a")
    after = catalogue(workspace)
    assert [entry["slug"] for entry in after["briefings"]] == ["child-b"]
    assert after["withdrawn"] == [{"guid": child_a["guid"], "slug": "child-a"}]
    Workspace(workspace, now=NOW + timedelta(minutes=2)).withdraw("child-a", undo=True)
    assert catalogue(workspace)["withdrawn"] == []


def test_validate_says_which_review_metadata_a_briefings_feed_lacks(workspace: Path) -> None:
    path = workspace / "feed" / "feeds" / "neglect.xml"
    tree = etree.parse(path)
    item = tree.getroot().find("channel/item")
    for name in ("lesson", "partnership"):
        for element in item.findall(f"{{{NAMESPACE}}}{name}"):
            item.remove(element)
    item.find(f"{{{NAMESPACE}}}report").text = "http://westmarsh-scp.example.org/report.pdf"
    tree.write(path, xml_declaration=True, encoding="UTF-8")
    result = run(workspace, "validate", str(path))
    assert result.exit_code == 1
    problems = [line for line in result.stderr.splitlines() if "briefings:" in line]
    assert len(problems) == 3, result.stderr
    assert any("item[1] briefings:partnership: is missing or empty" in line for line in problems)
    assert any("item[1] briefings:lesson: 0 key lessons; a briefing has 1 to 7" in line for line in problems)
    assert any("is not an https address (fix: link the report by https)" in line for line in problems)


def test_a_podcast_without_the_namespace_is_not_held_to_it(workspace: Path) -> None:
    path = workspace / "feed" / "feeds" / "neglect.xml"
    # A plain podcast: no briefings elements at all, and no namespace declaration.
    root = etree.parse(path).getroot()
    for element in list(root.iter()):
        if isinstance(element.tag, str) and element.tag.startswith(f"{{{NAMESPACE}}}"):
            element.getparent().remove(element)
    etree.cleanup_namespaces(root)
    assert NAMESPACE not in root.nsmap.values()
    path.write_bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))
    result = run(workspace, "validate", str(path))
    assert "briefings:" not in result.stderr, result.stderr
