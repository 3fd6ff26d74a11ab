"""The handout's deliverables beside the PDF, read and leak-scanned in memory before anything is written."""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

from labkit import answers, sections
from labkit.export.common import ExportError
from labkit.files import UnreadableFile, decode_text
from labkit.leaks import LeakReport, redact_text
from labkit.runproof import ASSET_DIRS, SERVERS
from labkit.settings import Settings

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".gif", ".webp", ".pdf"}


def sources(settings: Settings, extra_files: Sequence[Path] | None = None) -> tuple[list[tuple[Path, str]], list[str]]:
    """(source, name in dest) for the deliverables in ``settings.root`` and ``out/``, and warnings for missing ones."""
    out, root = Path(settings.out_dir), Path(settings.root)
    found: list[tuple[Path, str]] = []
    warnings: list[str] = []
    for name in SERVERS:
        src = next((p for p in (root / name, out / name) if p.is_file()), None)
        if src:
            found.append((src, name))
        else:
            warnings.append(f"missing {name} (looked in {root} and {out})")
    for folder in ASSET_DIRS:
        if (root / folder).is_dir():
            found += [(p, p.relative_to(root).as_posix()) for p in sorted((root / folder).rglob("*"))
                      if p.is_file() and "__pycache__" not in p.parts]
    answers_dir = Path(settings.answers_dir)
    if answers_dir.is_dir():
        found += [(p, f"answers/{p.name}") for p in sorted(answers_dir.iterdir())
                  if p.is_file() and not p.name.startswith(".")]
    if (out / "pci_assessment.md").is_file():
        found.append((out / "pci_assessment.md", "pci_assessment.md"))
    else:
        warnings.append(f"missing pci_assessment.md in {out} (run notebooks/04_pci.ipynb)")
    for folder, where in (("screenshots", settings.screenshots_dir), ("charts", settings.charts_dir)):
        pngs = sorted(where.glob("*.png")) if where.is_dir() else []
        if not pngs:
            warnings.append(f"no {folder} in {where}")
        found += [(p, f"{folder}/{p.name}") for p in pngs]
    for p in extra_files or ():
        p = Path(p)
        if p.is_file():
            found.append((p, p.name))
        else:
            warnings.append(f"missing extra file {p}")
    return found, warnings


def as_text(path: Path, data: bytes) -> str | None:
    """A handed-in file's text in any common encoding (:func:`labkit.files.decode_text`), None for images
    and what is not text. Text is scanned for leaks and copied as UTF-8."""
    if path.suffix.lower() in IMAGE_SUFFIXES:
        return None
    try:
        return decode_text(data, path.name)
    except UnreadableFile:
        return None


def is_text(path: Path) -> bool:
    return as_text(path, path.read_bytes()) is not None


def assessment_with_part_e(text: str, settings: Settings) -> str:
    """``pci_assessment.md`` as handed in: its Part E section is the student's own ``answers/part_e.md``
    (the handout wants the analysis in this file), whatever a notebook last wrote there."""
    own = answers.load_part_e(settings)
    return sections.replace_section(text, "e", sections.block("e", own)) if own else text


def read_redacted(found: Sequence[tuple[Path, str]], report: LeakReport,
                  settings: Settings | None = None) -> list[tuple[str, bytes]]:
    """Each file's bytes, text files with their secrets redacted (the findings go to ``report``)."""
    files: list[tuple[str, bytes]] = []
    images = 0
    for src, name in found:
        data = src.read_bytes()
        text = as_text(src, data)
        if name == "pci_assessment.md" and settings is not None and text is not None:
            text = assessment_with_part_e(text, settings)
        if text is not None:
            text, hits = redact_text(text)
            report.findings += [f.at(name) for f in hits]
            report.scanned.append(name)
            data = text.encode("utf-8")
        else:
            images += 1
        files.append((name, data))
    if images:
        report.not_scanned.append(f"{images} image file{'s' if images > 1 else ''} (screenshots, charts)")
    return files


def refuse_real_cards(report: LeakReport) -> None:
    cards = report.real_cards
    if cards:
        places = "\n".join(f"  - {f.redacted} in {f.where}" for f in cards[:10])
        raise ExportError(
            "Export stopped: found a card number that is not one of Stripe's public test cards "
            "(it passes the card checksum). Never put a real card in the lab; use only the test "
            "cards (4242 4242 4242 4242 and the others in the handout). Remove it, re-run the "
            f"notebook, and export again. Where:\n{places}"
        )
