"""Find each student's submission in a class folder, and unpack zips safely."""
from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path

DELIVERABLES = ("checkout_server.py", "webhook_handler.py")
MAX_UNPACKED = 200 * 1024 * 1024  # a submission is code, text and a few screenshots
MAX_FILES = 5000


class SubmissionError(ValueError):
    pass


@dataclass
class Submission:
    student: str        # the folder's or the zip's name
    source: Path        # what was found in the class folder
    folder: Path | None = None   # where checkout_server.py / webhook_handler.py are (after unpacking)
    problem: str = ""   # why it cannot be graded, if so


def find_code_folder(top: Path) -> Path | None:
    """The folder holding the deliverables: ``top``, ``top/submission``, or one level below."""
    for candidate in (top, top / "submission"):
        if any((candidate / d).is_file() for d in DELIVERABLES):
            return candidate
    for sub in sorted(p for p in top.rglob("*") if p.is_dir() and len(p.relative_to(top).parts) <= 3):
        if "__MACOSX" in sub.parts:
            continue
        if any((sub / d).is_file() for d in DELIVERABLES):
            return sub
    return None


def safe_unzip(zip_path: Path, dest: Path) -> None:
    """Unpack, refusing absolute paths, ``..``, links and zip bombs."""
    with zipfile.ZipFile(zip_path) as zf:
        infos = zf.infolist()
        if len(infos) > MAX_FILES:
            raise SubmissionError(f"{zip_path.name} holds {len(infos)} files (the limit is {MAX_FILES})")
        if sum(i.file_size for i in infos) > MAX_UNPACKED:
            raise SubmissionError(f"{zip_path.name} unpacks to more than {MAX_UNPACKED // 2**20} MB")
        root = dest.resolve()
        for info in infos:
            target = (dest / info.filename).resolve()
            if not target.is_relative_to(root) or (info.external_attr >> 16) & 0o170000 == 0o120000:
                raise SubmissionError(f"{zip_path.name}: refused entry {info.filename!r} (outside the folder or a link)")
        zf.extractall(dest)


def collect(class_dir: Path, work: Path) -> list[Submission]:
    """One :class:`Submission` per student folder or zip in ``class_dir``, sorted by name."""
    subs: list[Submission] = []
    for entry in sorted(Path(class_dir).iterdir(), key=lambda p: p.name.lower()):
        if entry.name.startswith(".") or not (entry.is_dir() or entry.suffix.lower() == ".zip"):
            continue
        name = entry.stem if entry.is_file() else entry.name
        sub = Submission(student=name, source=entry)
        top = entry
        if entry.is_file():
            top = work / f"unzipped-{len(subs)}"
            try:
                safe_unzip(entry, top)
            except (SubmissionError, zipfile.BadZipFile, OSError) as exc:
                sub.problem = f"cannot unpack {entry.name}: {exc}"
                subs.append(sub)
                continue
        sub.folder = find_code_folder(top)
        if sub.folder is None:
            sub.problem = f"no {' or '.join(DELIVERABLES)} found in {entry.name}"
        subs.append(sub)
    return subs


def answers_folder(code_folder: Path) -> Path:
    """Where a submission keeps the answers: ``answers/`` beside the code, else the folder itself."""
    return code_folder / "answers" if (code_folder / "answers").is_dir() else code_folder
