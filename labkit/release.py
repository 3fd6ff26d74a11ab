"""``labkit release student DIR``: the student edition, built from this (the solution) edition.

The solution of each exercise is marked where it lives, with the words course staff know from
nbgrader and otter-grader, in each language's comment syntax::

    # BEGIN SOLUTION            // BEGIN SOLUTION          <!-- BEGIN SOLUTION -->
    ...                         ...                        ...
    # END SOLUTION              // END SOLUTION            <!-- END SOLUTION -->

In the student edition each marked block becomes a starter: in Python
``# YOUR CODE HERE`` and ``raise NotImplementedError(...)`` naming the function (nbgrader's
convention; the docstring above says what to do), in JavaScript and HTML a ``YOUR CODE HERE``
comment, in a notebook's Markdown ``YOUR ANSWER HERE``. An optional ``BEGIN STARTER`` /
``END STARTER`` block right after holds commented-out starter lines, which the student edition
uncomments (for example a message that the exercise is not done yet). Files and folders in
:data:`SOLUTION_ONLY` are left out; notebooks lose their outputs. :func:`solution_lines` lists
what must never appear in the student edition, and :func:`build` checks it before returning.
"""
from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from labkit.settings import project_root

# Paths (relative, POSIX) that exist only in the solution edition.
SOLUTION_ONLY = (
    "labkit/data/model_answers/",
    "labkit/altpay/writeup.py",
    "labkit/altpay/writeup.md",
    "labkit/altpay/templates/",
    "bench/",
    ".ci/",
    "variants/",  # the other model solutions (Payment Element, Checkout Session)
    "labkit/data/student_readme.md.j2",  # becomes the edition's README.md
    "labkit/demo.py",      # `labkit demo`: the model solution's run (refused in the student edition)
    "labkit/orders.py",    # the order model of the variants/ model solutions (the student writes their own)
    "labkit/grading/",     # `labkit grade`: grading a class
)
# Tests of the solution itself: meaningless (and failing) against starters.
SOLUTION_TESTS = (
    "tests/test_checkout.py", "tests/test_browser.py", "tests/test_webhooks.py", "tests/test_webhooks_process.py",
    "tests/test_demo.py", "tests/test_pci_browser.py", "tests/test_release.py",
    "tests/test_grade.py", "tests/test_checks.py", "tests/submissions/", "tests/test_student_edition.py",
    "tests/test_webhook_handler.py", "tests/test_webhooks_standalone.py", "tests/test_robust_submissions.py",
    "tests/test_variants.py",
    # the made-up submissions they grade (tests/submissions/) are the solution's, not shipped
    "tests/test_a11y.py", "tests/test_checks_part_c.py", "tests/test_confinement.py", "tests/test_part_b_checks.py",
    "tests/test_writing_checks.py",
    "tests/test_webhooks_kept_endpoint.py",  # `labkit webhooks` with the solution's handler (as its neighbour)
    "tests/test_paid_once.py",  # notebook 02's kept payments, on the solution built by tests/submissions/
    "tests/test_drill.py",  # notebook 03's kill-and-restart drill, on the solution's handler
    "tests/test_check_watch.py",  # labkit check --watch, on the solution built by tests/submissions/
    # the instructor's grading tools (course platforms, Canvas, similarity, the class report)
    "tests/test_gradescope.py", "tests/test_classroom.py", "tests/test_canvas.py", "tests/test_similarity.py",
    "tests/test_grade_report.py",
)
SKIP_ALWAYS = (".git/", ".venv/", "out/", "submission/", "answers/", ".pytest_cache/")
# Written for the edition, not copied: its own README (labkit/data/student_readme.md.j2) and .gitignore.
WRITTEN = ("README.md", ".gitignore")
README_TEMPLATE = "student_readme.md.j2"
# .gitignore lines of the solution edition that would leave a student's hand-in out of a git commit.
NOT_IGNORED_IN_EDITION = ("/submission/", "/answers/*", "!/answers/.gitkeep")
TEXT_SUFFIXES = {".py", ".js", ".html", ".css", ".md", ".txt", ".toml", ".cfg", ".yml", ".yaml", ".json", ".ipynb",
                 ".csv", ".j2", ""}
EDITION_FILE = "labkit/data/edition.json"

MARK = {  # suffix -> (comment start, comment end)
    ".py": ("#", ""), ".js": ("//", ""), ".css": ("/*", "*/"), ".html": ("<!--", "-->"), ".md": ("<!--", "-->"),
}


MARKER_LINE = re.compile(r"^\s*(?:#|//|/\*|<!--)\s*(?:BEGIN|END) SOLUTION\s*(?:\*/|-->)?\s*$", re.M)


def edition() -> str:
    """``"student"`` in a student edition (``labkit/data/edition.json``), else ``"solution"``."""
    path = Path(__file__).parent / "data" / "edition.json"
    try:
        return json.loads(path.read_text(encoding="utf-8")).get("edition", "solution")
    except (OSError, ValueError):
        return "solution"


class ReleaseError(RuntimeError):
    pass


def _marker(kind: str, start: str, end: str) -> re.Pattern[str]:
    return re.compile(rf"^(?P<indent>[ \t]*){re.escape(start)}\s*{kind}\s*{re.escape(end) if end else ''}\s*$")


@dataclass
class Stripped:
    text: str
    removed: list[str] = field(default_factory=list)  # the solution lines taken out


def _placeholder(suffix: str, indent: str, context: str) -> list[str]:
    if suffix == ".py":
        return [f"{indent}# YOUR CODE HERE", f"{indent}raise NotImplementedError({context!r})"]
    start, end = MARK.get(suffix, ("#", ""))
    return [f"{indent}{start} {'YOUR ANSWER HERE' if suffix == '.md' else 'YOUR CODE HERE'}{(' ' + end) if end else ''}"]


def _context(lines: list[str], path_name: str) -> str:
    for line in reversed(lines):
        m = re.match(r"\s*(?:async\s+)?def\s+(\w+)", line)
        if m:
            return f"{path_name}: {m.group(1)}() is not written yet"
    return f"{path_name}: not written yet"


def strip_solutions(text: str, suffix: str, name: str = "") -> Stripped:
    """Replace every marked solution block of ``text`` (a file of type ``suffix``) by its starter."""
    start, end = MARK.get(suffix, ("#", ""))
    begin, finish = _marker("BEGIN SOLUTION", start, end), _marker("END SOLUTION", start, end)
    s_begin, s_end = _marker("BEGIN STARTER", start, end), _marker("END STARTER", start, end)
    out: list[str] = []
    removed: list[str] = []
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        m = begin.match(lines[i])
        if s_begin.match(lines[i]):  # a starter block in the solution edition: uncomment it
            i += 1
            while i < len(lines) and not s_end.match(lines[i]):
                out.append(re.sub(rf"^(\s*){re.escape(start)} ?(.*?)\s*{re.escape(end)}\s*$" if end else
                                  rf"^(\s*){re.escape(start)} ?", r"\1\2" if end else r"\1", lines[i]))
                i += 1
            i += 1
            continue
        if not m:
            out.append(lines[i])
            i += 1
            continue
        j = i + 1
        while j < len(lines) and not finish.match(lines[j]):
            j += 1
        if j == len(lines):
            raise ReleaseError(f"{name}: BEGIN SOLUTION on line {i + 1} has no END SOLUTION")
        removed += lines[i + 1:j]
        has_starter = j + 1 < len(lines) and s_begin.match(lines[j + 1])
        if not has_starter:
            out += _placeholder(suffix, m.group("indent"), _context(lines[:i], name))
        i = j + 1
    return Stripped("\n".join(out), removed)


def strip_notebook(raw: str, name: str) -> Stripped:
    nb = json.loads(raw)
    removed: list[str] = []
    for cell in nb.get("cells", []):
        src = "".join(cell.get("source", []))
        suffix = ".py" if cell.get("cell_type") == "code" else ".md"
        res = strip_solutions(src, suffix, name)
        removed += res.removed
        cell["source"] = res.text.splitlines(keepends=True)
        if cell.get("cell_type") == "code":
            cell["outputs"], cell["execution_count"] = [], None
        cell.get("metadata", {}).pop("execution", None)
    nb.get("metadata", {}).pop("widgets", None)
    return Stripped(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", removed)


def kit_files(root: Path) -> list[str]:
    """The kit's files (git's list when this is a git checkout, else a walk)."""
    try:
        out = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=root,
                             capture_output=True, check=True)
        names = [n for n in out.stdout.decode().split("\0") if n]
    except (OSError, subprocess.CalledProcessError):
        names = [p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()]
    return sorted(n for n in names if (root / n).is_file() and "__pycache__" not in n)


def _excluded(name: str) -> bool:
    return name in WRITTEN or any(name == p.rstrip("/") or name.startswith(p)
                                  for p in (*SKIP_ALWAYS, *SOLUTION_ONLY, *SOLUTION_TESTS))


def student_readme(root: Path) -> str:
    """The edition's README.md: what the student does, from ``labkit/data/student_readme.md.j2``."""
    import jinja2

    from labkit import answers
    from labkit.checks.items import rubric
    from labkit.export.common import LAB_TITLE, PDF_NAME

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(root / "labkit" / "data")),
                             keep_trailing_newline=True, undefined=jinja2.StrictUndefined, autoescape=False)
    points = {p["part"]: p.get("points") for p in rubric().get("parts", [])}
    from labkit.settings import load_settings

    return env.get_template(README_TEMPLATE).render(lab_title=LAB_TITLE, course=load_settings().course,
                                                    points=points, pdf_name=PDF_NAME,
                                                    pci_file=answers.PCI_FILE, part_e_file=answers.PART_E_FILE)


def student_gitignore(solution_gitignore: str) -> str:
    """The edition's .gitignore: the solution edition's, without the lines that ignore the hand-in
    (``answers/``, ``submission/``), so a git or GitHub Classroom hand-in keeps them."""
    kept = [line for line in solution_gitignore.splitlines() if line.strip() not in NOT_IGNORED_IN_EDITION]
    return "\n".join(kept).rstrip("\n") + "\n"


def _has_markers(path: Path) -> bool:
    """Does a written file still hold a solution marker of its own language?"""
    if path.suffix == ".ipynb":
        cells = json.loads(path.read_text(encoding="utf-8")).get("cells", [])
        return any(MARKER_LINE.search("".join(c.get("source", []))) for c in cells)
    if path.suffix not in MARK:
        return False
    start, end = MARK[path.suffix]
    pattern = _marker("(?:BEGIN|END) SOLUTION", start, end)
    return any(pattern.match(line) for line in path.read_text("utf-8", "replace").splitlines())


@dataclass
class Release:
    dest: Path
    files: int
    blocks: int
    removed: list[str]


def _write_student_files(dest: Path, root: Path) -> None:
    from labkit import answers
    from labkit.autograder.classroom import write_workflow
    from labkit.checks.own_words import to_json
    from labkit.checks.writing import FINGERPRINT, model_fingerprint, model_sentences

    (dest / "answers").mkdir(parents=True, exist_ok=True)
    (dest / "answers" / ".gitkeep").write_text("", encoding="utf-8")
    (dest / "answers" / answers.PART_E_FILE).write_text(answers.PART_E_STARTER, encoding="utf-8")
    (dest / "answers" / answers.PCI_FILE).write_text(json.dumps(answers.empty_pci(), indent=2) + "\n", encoding="utf-8")
    (dest / EDITION_FILE).write_text(json.dumps({"edition": "student"}) + "\n", encoding="utf-8")
    write_workflow(dest)  # GitHub Classroom's autograding (labkit.autograder.classroom)
    (dest / "README.md").write_text(student_readme(root), encoding="utf-8", newline="\n")
    ignore = root / ".gitignore"
    (dest / ".gitignore").write_text(student_gitignore(ignore.read_text(encoding="utf-8") if ignore.is_file() else ""),
                                     encoding="utf-8", newline="\n")
    shingles = sorted(model_fingerprint() or [])
    (dest / "labkit" / "data" / FINGERPRINT).write_text(json.dumps(
        {"note": "hashed 8-word phrases of the instructor's model answer, and a b-bit MinHash signature of each of "
                 "its sentences' content words (to spot a copy, also a reworded one; not the text)",
         "shingles": shingles, "sentences": to_json(model_sentences() or [])}) + "\n", encoding="utf-8")


def build(dest: str | Path, root: Path | None = None, *, force: bool = False) -> Release:
    """Write the student edition of the kit at ``root`` (default: this kit) into ``dest``."""
    root = (root or project_root(Path(__file__).parent)).resolve()
    dest = Path(dest).resolve()
    if dest == root or root in dest.parents and not dest.name.startswith(("dist", "build", "student")):
        raise ReleaseError(f"{dest} is inside the kit: choose a folder outside it (or ./dist/…)")
    if dest.exists() and any(dest.iterdir()):
        if not force:
            raise ReleaseError(f"{dest} is not empty: choose an empty folder, or add --force to replace it")
        shutil.rmtree(dest)
    removed: list[str] = []
    files = blocks = 0
    for name in kit_files(root):
        if _excluded(name) or (root in dest.parents and (root / name).resolve().is_relative_to(dest)):
            continue
        src, target = root / name, dest / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if src.suffix == ".ipynb":
            res = strip_notebook(src.read_text(encoding="utf-8"), name)
        elif src.suffix in MARK:
            res = strip_solutions(src.read_text(encoding="utf-8"), src.suffix, name)
        else:
            shutil.copy2(src, target)
            files += 1
            continue
        blocks += bool(res.removed)
        removed += res.removed
        target.write_text(res.text, encoding="utf-8", newline="\n")
        files += 1
    _write_student_files(dest, root)
    leftover = [str(p.relative_to(dest)) for p in dest.rglob("*") if p.is_file() and _has_markers(p)]
    if leftover:
        raise ReleaseError(f"solution markers left in {', '.join(leftover[:5])}")
    return Release(dest, files, blocks, removed)


def add_release_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("edition", choices=["student"], help="the edition to build")
    parser.add_argument("dest", type=Path, help="an empty folder for it")
    parser.add_argument("--force", action="store_true", help="replace what DEST holds")


def run_release(args: argparse.Namespace) -> int:
    try:
        rel = build(args.dest, force=args.force)
    except ReleaseError as exc:
        print(f"labkit release: {exc}")
        return 2
    print(f"student edition written to {rel.dest}: {rel.files} files, {len(rel.removed)} solution lines replaced "
          f"by starters. Students set it up with `python3 run.py setup` there.")
    return 0
