"""Grading confines the student's code (labkit.student.confine): a malicious submission graded
beside a correct one writes nothing into the class folder, reads neither its neighbour nor the
grader's environment, and its 3 GiB allocation is stopped with the reason in its row."""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path

import pytest

from labkit.grading.cli import grade_class
from labkit.student import confine as jail

from .submissions.builder import solution

GRADER_TOKEN = "grader-only-7f3a9c"

PROBE = '''
# --- the malicious part: what a student's code tries while it is graded ---
import json as _json, os as _os, pathlib as _pathlib
_found = {{"uid": _os.getuid() if hasattr(_os, "getuid") else None, "cwd": _os.getcwd(),
          "environ": dict(_os.environ)}}
for _name, _path in (("class", {klass!r}), ("own_original", {own!r})):
    try:
        _pathlib.Path(_path, "owned.txt").write_text("written by a student")
        _found["wrote_" + _name] = True
    except OSError as _exc:
        _found["wrote_" + _name] = type(_exc).__name__
try:
    _found["neighbour"] = _pathlib.Path({neighbour!r}).read_text()[:40]
except OSError as _exc:
    _found["neighbour"] = "refused: " + type(_exc).__name__
_pathlib.Path({oracle!r}, "found-%d.json" % _os.getpid()).write_text(_json.dumps(_found))
'''


def digest(top: Path) -> str:
    h = hashlib.sha256()
    for path in sorted(top.rglob("*")):
        h.update(str(path.relative_to(top)).encode())
        if path.is_file():
            h.update(path.read_bytes())
        h.update(oct(path.stat().st_mode).encode())
    return h.hexdigest()


@pytest.fixture()
def open_folders():
    """A world-readable class folder and a world-writable drop box for what the code found: only the
    confinement, not a private pytest folder, stands between the student's code and its neighbour."""
    made = [Path(tempfile.mkdtemp(prefix="labkit-class-")), Path(tempfile.mkdtemp(prefix="labkit-oracle-"))]
    os.chmod(made[0], 0o755)
    os.chmod(made[1], 0o777)
    yield made
    for path in made:
        shutil.rmtree(path, ignore_errors=True)


def malicious(dest: Path, klass: Path, neighbour: Path, oracle: Path) -> None:
    solution(dest)
    probe = PROBE.format(klass=str(klass), own=str(dest), neighbour=str(neighbour), oracle=str(oracle))
    server = dest / "checkout_server.py"
    server.write_text(server.read_text(encoding="utf-8") + probe, encoding="utf-8")
    handler = dest / "webhook_handler.py"
    handler.write_text(handler.read_text(encoding="utf-8") + "\n_hog = bytearray(3 * 2**30)  # 3 GiB at import\n",
                       encoding="utf-8")


def test_a_malicious_submission_is_confined(open_folders, monkeypatch, chromium):
    klass, oracle = open_folders
    monkeypatch.setenv("LABKIT_TEST_GRADER_TOKEN", GRADER_TOKEN)
    neighbour = klass / "alice"
    solution(neighbour)
    (neighbour / "secret_notes.txt").write_text("alice's own answer", encoding="utf-8")
    malicious(klass / "mallory", klass, neighbour / "secret_notes.txt", oracle)
    before = digest(klass)

    rows = {r["student"]: r for r in grade_class(klass, jobs=2, progress=False)}

    assert digest(klass) == before, "grading changed the class folder"
    found = [json.loads(p.read_text()) for p in oracle.glob("found-*.json")]
    assert found, "the malicious checkout never ran (the test proves nothing)"
    for seen in found:
        assert seen["wrote_class"] is not True and seen["wrote_own_original"] is not True
        assert GRADER_TOKEN not in json.dumps(seen["environ"])
        assert not any(k.startswith("LABKIT_") for k in seen["environ"])
        assert seen["environ"]["HOME"] != os.environ.get("HOME")
        assert Path(seen["cwd"]).resolve() != (klass / "mallory").resolve()
        if jail.is_root():  # elsewhere the grader's own user runs it, and can read what the grader reads
            assert seen["neighbour"].startswith("refused"), seen["neighbour"]
            assert seen["uid"] != 0
    mallory = {i["check"]: i for i in rows["mallory"]["items"]}
    if os.name == "posix":
        assert "memory limit" in mallory["grade:limits"]["evidence"]
        assert "memory limit" in mallory["webhook:succeeded"]["evidence"]
    alice = {i["check"]: i["status"] for i in rows["alice"]["items"]}
    assert alice["scenario:success"] == "evidenced" and alice["webhook:succeeded"] == "evidenced"
    assert mallory["scenario:success"]["status"] == "evidenced"  # confined, its checkout still works


def test_private_copy_leaves_links_out(tmp_path):
    src = tmp_path / "sub"
    (src / "answers").mkdir(parents=True)
    (src / "checkout_server.py").write_text("app = None\n")
    (src / "answers" / "part_e.md").write_text("essay\n")
    outside = tmp_path / "grader_secret.txt"
    outside.write_text("not the student's")
    (src / "answers" / "pci.json").symlink_to(outside)
    (src / "linked_dir").symlink_to(tmp_path)
    copy = jail.private_copy(src, tmp_path / "copy", uid=None)
    assert (copy / "checkout_server.py").read_text() == "app = None\n"
    assert (copy / "answers" / "part_e.md").is_file()
    assert not (copy / "answers" / "pci.json").exists() and not (copy / "linked_dir").exists()
    assert oct(copy.stat().st_mode & 0o777) == oct(0o700)


def test_the_environment_keeps_only_what_the_lab_needs(tmp_path):
    conf = jail.Confinement(home=tmp_path)
    env = conf.environ({"PATH": "/usr/bin", "HOME": "/root", "HTTPS_PROXY": "http://proxy:3128",
                        "STRIPE_SECRET_KEY": "sk_test_x", "ORDERS_DB": "/tmp/o.db", "AWS_SECRET_ACCESS_KEY": "x"})
    assert env["HOME"] == str(tmp_path) and env["TMPDIR"] == str(tmp_path)
    assert "HTTPS_PROXY" not in env and "AWS_SECRET_ACCESS_KEY" not in env
    assert env["STRIPE_SECRET_KEY"] == "sk_test_x" and env["ORDERS_DB"] == "/tmp/o.db"
