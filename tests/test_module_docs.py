"""The code explains itself in reasons, not measurements: every module of the package and the
schemas opens with a docstring of a few lines, and no line names a bench workload or quotes a
figure (those live in bench/RESULTS.md); the README says how a request is served in a screen."""

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCES = sorted([*(ROOT / "jsonapi_server").rglob("*.py"), *(ROOT / "schemas").rglob("*.py")])
MOST_DOCSTRING_LINES = 3
# A bench workload (W1 ... W5), a time per call, a share of instructions, a fraction of a cost.
FIGURE = re.compile(
    r"\bW[1-5]\b"
    r"|\d+(?:\.\d+)? ?(?:us|µs)\b"
    r"|\d ?%(?![(sdYmHMS])"  # a percentage, not a %-format directive
    r"|\binstructions\b|\bmeasured\b"
    r"|\ba (?:third|tenth|fifth|sixth|eighth|quarter|half) of\b"
)


def name(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def docstring_lines(path: Path) -> int:
    docstring = ast.get_docstring(ast.parse(path.read_text()), clean=False)
    return len(docstring.splitlines()) if docstring else 0


def figures(path: Path) -> list[str]:
    lines = path.read_text().splitlines()
    return [
        f"{name(path)}:{n}: {line.strip()}"
        for n, line in enumerate(lines, 1)
        if FIGURE.search(line)
    ]


def test_the_figure_pattern_tells_figures_from_formats():
    quoted = ["W3 -23 %", "about 50 us a statement", "~1 µs", "a third of its CPU", "(measured)"]
    plain = ['"%Y-%m-%d %H:%M UTC"', "microsecond % 1000", "page%5Bsize%5D", "1 ms past", "W10"]
    assert all(FIGURE.search(text) for text in quoted)
    assert not any(FIGURE.search(text) for text in plain)


def test_every_module_opens_with_a_short_docstring():
    long_or_missing = {
        name(path): lines
        for path in SOURCES
        if not 1 <= (lines := docstring_lines(path)) <= MOST_DOCSTRING_LINES
    }
    assert not long_or_missing, long_or_missing


def test_no_module_names_a_workload_or_quotes_a_figure():
    quoted = [line for path in SOURCES for line in figures(path)]
    assert not quoted, "\n".join(quoted)


def test_the_readme_serves_a_request_in_one_screen_and_keeps_no_figures():
    readme = (ROOT / "README.md").read_text()
    section = re.search(r"^## How a request is served\n(.*?)(?=^## )", readme, re.M | re.S)
    assert section and len(section.group(1).splitlines()) <= 50
    assert "DATABASE_PREPARED_STATEMENTS" in section.group(1)
    assert "bench/RESULTS.md" in section.group(1)
    assert not re.search(r"\bW[1-5]\b", readme)
    assert "W1" in (ROOT / "bench" / "RESULTS.md").read_text()
