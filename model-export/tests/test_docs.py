"""The repository's Markdown stays a guide: README.md short, results documents opening with their current figures,
and every relative link pointing at a file that exists (and at one of its headings, where it names one)."""
import functools
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
RESULTS = [REPO / "docs" / "performance.md", REPO / "model-export" / "docs" / "benchmarks.md"]
# A Markdown link's target: a path (empty for the same document), then an optional #anchor.
LINK = re.compile(r"\]\(([^)#\s]*)(?:#([^)\s]*))?\)")


def _markdown_files() -> list[Path]:
    skipped = {".venv", "build", "target", "node_modules", ".git"}
    return sorted(p for p in REPO.rglob("*.md") if not skipped & set(p.relative_to(REPO).parts))


def test_the_readme_is_a_guide_under_200_lines():
    assert len((REPO / "README.md").read_text().splitlines()) < 200


@pytest.mark.parametrize("document", RESULTS, ids=lambda p: str(p.relative_to(REPO)))
def test_a_results_document_opens_with_its_current_figures_table(document):
    head = document.read_text().splitlines()[:60]
    heading = next(i for i, line in enumerate(head) if line.startswith("## Current figures"))
    assert any(line.startswith("|") for line in head[heading:]), "a table within the first 60 lines"


def _relative_links() -> list[tuple[Path, str, str]]:
    """Every link of the docs that stays in the repository: (document, target path, anchor); the path is empty for
    a section of the same document, the anchor empty for a whole file. http:, https: and mailto: links are left out."""
    return [(document, target, anchor)
            for document in _markdown_files()
            for target, anchor in LINK.findall(document.read_text())
            if not re.match(r"^[a-z]+:", target)]


def test_every_relative_link_in_the_docs_points_at_a_file():
    broken = [f"{document.relative_to(REPO)} -> {target}" for document, target, _ in _relative_links()
              if target and not (document.parent / target).exists()]
    assert broken == []


@functools.cache
def _heading_anchors(document: Path) -> frozenset[str]:
    """The anchors GitHub gives a document's headings: lower case, punctuation dropped, spaces as hyphens, repeats
    numbered."""
    anchors, seen, in_code = set(), {}, False
    for line in document.read_text().splitlines():
        if line.startswith("```"):
            in_code = not in_code
        heading = None if in_code else re.match(r"^#{1,6} (.*)", line)
        if heading:
            anchor = re.sub(r"[^\w\- ]", "", heading.group(1).strip().lower()).replace(" ", "-")
            count = seen.get(anchor, 0)
            anchors.add(anchor if count == 0 else f"{anchor}-{count}")
            seen[anchor] = count + 1
    return frozenset(anchors)


def test_every_link_to_a_section_names_a_heading_of_its_document():
    broken = []
    for document, target, anchor in _relative_links():
        linked = document.parent / target if target else document
        if anchor and linked.suffix == ".md" and linked.exists() and anchor not in _heading_anchors(linked):
            broken.append(f"{document.relative_to(REPO)} -> {target}#{anchor}")
    assert broken == []
