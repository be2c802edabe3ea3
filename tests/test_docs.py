"""The documentation's shape: the README links every page of ``docs/``, each page opens with what
the reader came for, every relative link (and its ``#anchor``) leads somewhere, and the
benchmark results shown in ``docs/benchmarks.md`` are those of ``benchmarks/results.md``."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
README = ROOT / "README.md"
PAGES = sorted(DOCS.glob("*.md"))
LINKED = [README, *PAGES, ROOT / "benchmarks" / "README.md", *sorted((ROOT / "examples").glob("*/README.md"))]
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
FENCE = re.compile(r"^\s*(```|~~~)")


def _prose(text: str) -> list[str]:
    """The lines of a Markdown text outside fenced code blocks."""
    lines, fenced = [], False
    for line in text.splitlines():
        if FENCE.match(line):
            fenced = not fenced
        elif not fenced:
            lines.append(line)
    return lines


def anchors(path: Path) -> set[str]:
    """The ``#anchors`` GitHub makes for the headings of ``path``."""
    found: set[str] = set()
    for line in _prose(path.read_text()):
        heading = re.match(r"#{1,6} (.+)", line)
        if not heading:
            continue
        slug = re.sub(r"[^\w\- ]", "", heading.group(1).strip().lower()).replace(" ", "-")
        candidate, n = slug, 0
        while candidate in found:
            n += 1
            candidate = f"{slug}-{n}"
        found.add(candidate)
    return found


def links(path: Path) -> list[str]:
    return [match for line in _prose(path.read_text()) for match in LINK.findall(line)]


def test_the_readme_links_every_page_of_docs() -> None:
    linked = {target.split("#", 1)[0] for target in links(README)}
    assert {f"docs/{page.name}" for page in PAGES} <= linked


def test_the_docs_index_lists_every_page() -> None:
    linked = {target.split("#", 1)[0] for target in links(DOCS / "README.md")}
    assert {page.name for page in PAGES if page.name != "README.md"} <= linked


def test_the_readme_keeps_the_two_commands_and_leaves_the_references_to_docs() -> None:
    text = README.read_text()
    section = text.split("## Two commands", 1)[1].split("\n## ", 1)[0]
    block = section.split("```sh\n", 1)[1].split("```", 1)[0]
    assert [line.split()[:2] for line in block.splitlines()] == [["bash", "scripts/rehearse.sh"],
                                                                 ["bash", "scripts/test.sh"]]
    for marker in ("BEGIN CONFIGURATION REFERENCE", "BEGIN SCHEMA REFERENCE", "<!-- results:start -->"):
        assert marker not in text, marker


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.name)
def test_each_page_opens_with_its_title_and_what_the_reader_came_for(page: Path) -> None:
    lines = page.read_text().splitlines()
    assert lines[0].startswith("# "), page
    opening = next(line for line in lines[1:] if line.strip())
    assert not opening.startswith(("#", "|", "```", "<!--", "-")), (page, opening)


@pytest.mark.parametrize("path", LINKED, ids=lambda path: str(path.relative_to(ROOT)))
def test_every_relative_link_leads_to_a_file_and_heading(path: Path) -> None:
    for target in links(path):
        if re.match(r"[a-z]+:", target):
            continue
        file_part, _, anchor = target.partition("#")
        destination = (path.parent / file_part).resolve() if file_part else path
        assert destination.exists(), f"{path.relative_to(ROOT)}: {target}"
        if anchor and destination.suffix == ".md":
            assert anchor in anchors(destination), f"{path.relative_to(ROOT)}: {target}"


def _block(text: str) -> str:
    return text.split("<!-- results:start -->\n", 1)[1].split("\n<!-- results:end -->", 1)[0]


def test_the_benchmark_results_page_shows_the_recorded_run() -> None:
    recorded = (ROOT / "benchmarks" / "results.md").read_text()
    header = recorded.split("\n\nRun of ", 1)[1].split("\n\n", 1)[0]
    targets = recorded.split("### Targets\n\n", 1)[1].split("\n\n", 1)[0]

    assert _block((DOCS / "benchmarks.md").read_text()) == f"Run of {header}\n\n{targets}"
