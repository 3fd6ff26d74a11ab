"""Confining a student's code while a class is graded: a private copy, limits, an unprivileged user.

What each platform gets (``labkit grade``; a student's own ``labkit check`` runs unconfined):

* every platform: each student's files are copied (regular files only, no links) into a private
  folder that is the server's working directory, ``HOME`` and ``TMPDIR``; the class folder is
  never written; the server's environment holds only what the lab needs (no grader variables).
* POSIX: limits on each student process (:class:`Limits`: address space, CPU seconds, file size),
  set by the child itself before it imports the student's file (:func:`apply_in_child`).
* Linux or macOS as root: the student's processes run as a user of their own (``uid``, one per
  student, no login, no groups), which owns only that student's copy: they cannot read another
  student's copy or the grader's files, and a process limit applies to that user alone.
* Linux as root: the grading child also enters new mount and network namespaces
  (:func:`isolate`): no network but its own loopback (the fake Stripe, the browser and the
  student's servers all live there), and the class folder and the kit's own model solution are
  hidden from everything it starts.

Containers (Gradescope's autograder, GitHub Classroom's runners) are the stronger boundary.
"""
from __future__ import annotations

import ctypes
import json
import os
import shutil
import signal
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path

FIRST_UID = 61000   # student i runs as FIRST_UID + i (no /etc/passwd entry needed; below nobody's 65534)
UIDS = 4000
MAX_COPY = 200 * 1024 * 1024   # the same bound as an unpacked zip (labkit.grading.collect)
# What the kit itself leaves where a student process could read it: the model solution's files.
KIT_SOLUTION = ("checkout_server.py", "webhook_handler.py", "templates", "static", "variants", "answers")


@dataclass(frozen=True)
class Limits:
    """Per student process; ``None`` leaves that limit as it is. The defaults fit the lab's servers
    (about 150 MiB each) with room to spare, and stop a runaway before it hurts the grader."""

    memory_mb: int | None = 1024      # RLIMIT_AS: address space
    cpu_seconds: int | None = 120     # RLIMIT_CPU: CPU time (SIGXCPU ends the process)
    file_mb: int | None = 64          # RLIMIT_FSIZE: the largest file it may write (SIGXFSZ)
    processes: int | None = 64        # RLIMIT_NPROC: processes and threads of its own user (root only)


@dataclass(frozen=True)
class Confinement:
    """How one student's servers run: ``home`` is their private folder; ``uid`` set only as root."""

    home: Path
    limits: Limits = field(default_factory=Limits)
    uid: int | None = None

    def to_arg(self) -> str:
        return json.dumps({"home": str(self.home), "uid": self.uid, "limits": asdict(self.limits)})

    @classmethod
    def from_arg(cls, text: str) -> "Confinement":
        data = json.loads(text)
        return cls(home=Path(data["home"]), uid=data.get("uid"), limits=Limits(**data.get("limits", {})))

    def environ(self, base: dict[str, str]) -> dict[str, str]:
        """``base`` (already only the OS basics) without the grader's home, proxies and CA paths."""
        keep = {"PATH", "SYSTEMROOT", "SYSTEMDRIVE", "LANG", "LC_ALL", "PYTHONPATH", "PYTHONUNBUFFERED",
                "PYTHONIOENCODING", "PYTHONDONTWRITEBYTECODE"}
        env = {k: v for k, v in base.items() if k.upper() in keep or k.startswith(("STRIPE_", "ORDERS_"))}
        home = str(self.home)
        env.update(HOME=home, TMPDIR=home, TEMP=home, TMP=home, USERPROFILE=home)
        return env

    def give(self, path: Path) -> None:
        """Make ``path`` (a folder the student's server writes in) the student user's."""
        if self.uid is not None:
            _chown_tree(Path(path), self.uid)


def is_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def student_uid(slot: int, isolating: bool = False) -> int | None:
    """The user student number ``slot`` runs as: only when grading as root on POSIX, and only where
    that user can run the Python and the kit (or :func:`isolate` will make them reachable)."""
    if not (is_root() and os.name == "posix"):
        return None
    if not isolating and runtime_closed():
        return None
    return FIRST_UID + slot % UIDS


def runtime_paths() -> list[Path]:
    """What a student's server needs to read: the Python (base and virtualenv) and the kit."""
    kit = Path(__file__).resolve().parents[2]
    return sorted({Path(p).resolve() for p in (sys.base_prefix, sys.prefix, kit)})


def runtime_closed() -> bool:
    """Whether a folder on the way to the Python or the kit is closed to other users (pyenv under /root)."""
    return any(first_closed_ancestor(p) is not None for p in runtime_paths())


def _chown_tree(top: Path, uid: int) -> None:
    for dirpath, dirnames, filenames in os.walk(top):
        os.chown(dirpath, uid, uid)
        for name in filenames:
            os.chown(os.path.join(dirpath, name), uid, uid, follow_symlinks=False)


def private_copy(source: Path, dest: Path, uid: int | None) -> Path:
    """Copy ``source``'s regular files and folders into ``dest`` (made private: 0700, the student's
    user when ``uid``). Links are left out: a link to a file outside the submission would be read by
    the kit with the grader's rights. Raises ``ValueError`` past :data:`MAX_COPY` bytes."""
    dest.mkdir(mode=0o700, parents=True)
    total = 0
    for dirpath, dirnames, filenames in os.walk(source, followlinks=False):
        here = Path(dirpath)
        target = dest / here.relative_to(source)
        target.mkdir(exist_ok=True)
        dirnames[:] = [d for d in dirnames if not (here / d).is_symlink()]
        for name in filenames:
            src = here / name
            if src.is_symlink() or not src.is_file():
                continue
            total += src.stat().st_size
            if total > MAX_COPY:
                raise ValueError(f"the submission holds more than {MAX_COPY // 2**20} MB")
            shutil.copyfile(src, target / name)
    os.chmod(dest, 0o700)
    if uid is not None:
        _chown_tree(dest, uid)
    return dest


def apply_in_child(confinement: Confinement) -> None:
    """In the student's server process, before it imports the student's file: limits, then the
    student's own user (root only). The kit's code is already imported and stays readable."""
    try:
        import resource
    except ImportError:  # Windows: no POSIX limits (a container is the boundary there)
        return
    lim = confinement.limits
    for name, value in (("RLIMIT_AS", lim.memory_mb and lim.memory_mb * 2**20),
                        ("RLIMIT_CPU", lim.cpu_seconds),
                        ("RLIMIT_FSIZE", lim.file_mb and lim.file_mb * 2**20),
                        ("RLIMIT_NPROC", lim.processes if confinement.uid is not None else None)):
        which = getattr(resource, name, None)
        if value and which is not None:
            try:
                resource.setrlimit(which, (value, value))
            except (ValueError, OSError):  # macOS refuses some (RLIMIT_AS): the others still apply
                pass
    if confinement.uid is not None:
        os.setgroups([])
        os.setgid(confinement.uid)
        os.setuid(confinement.uid)
    os.environ["HOME"] = str(confinement.home)


LIMIT_HITS: list[str] = []   # this process's record of limits hit (the grading child reads it per student)


def record(server: str, reason: str) -> None:
    line = f"{server}: {reason}"
    if reason and line not in LIMIT_HITS:
        LIMIT_HITS.append(line)


def describe(confinement: "Confinement", isolated: bool) -> str:
    """One line for the grader: what confined this student's code."""
    lim = confinement.limits
    parts = ["a private copy of the files, a minimal environment"]
    if os.name == "posix":
        parts.append(f"limits of {lim.memory_mb} MiB memory, {lim.cpu_seconds} s CPU, {lim.file_mb} MiB per file"
                     + (f", {lim.processes} processes" if confinement.uid is not None else ""))
    if confinement.uid is not None:
        parts.append(f"its own user (uid {confinement.uid})")
    if isolated:
        parts.append("no network but loopback, the class folder hidden")
    return "; ".join(parts)


def limit_reason(returncode: int | None, limits: Limits) -> str:
    """Why a student's process ended, when a limit ended it ("" otherwise)."""
    if returncode is None or returncode >= 0:
        return ""
    sig = -returncode
    if sig == getattr(signal, "SIGXCPU", None):
        return f"it used up its CPU time limit ({limits.cpu_seconds} s)"
    if sig == getattr(signal, "SIGXFSZ", None):
        return f"it wrote a file past the file size limit ({limits.file_mb} MiB)"
    return ""


def memory_reason(limits: Limits) -> str:
    return f"it ran out of its memory limit ({limits.memory_mb} MiB)"


# --- Linux namespaces (the grading child, as root) -------------------------------------------------

CLONE_NEWNS, CLONE_NEWNET = 0x00020000, 0x40000000
MS_RDONLY, MS_BIND, MS_REC, MS_PRIVATE = 0x1, 0x1000, 0x4000, 0x40000


def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


def _check(result: int, what: str) -> None:
    if result != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def _mount(source: str, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    enc = lambda s: s.encode() if s is not None else None
    _check(_libc().mount(enc(source), enc(target), enc(fstype), ctypes.c_ulong(flags), enc(data)),
           f"mount {target}")


def _loopback_up() -> None:
    import fcntl
    import socket
    import struct

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        req = struct.pack("16sh", b"lo", 0)
        flags = struct.unpack("16sh", fcntl.ioctl(s, 0x8913, req))[1]       # SIOCGIFFLAGS
        fcntl.ioctl(s, 0x8914, struct.pack("16sh", b"lo", flags | 0x1))     # SIOCSIFFLAGS |= IFF_UP


def can_isolate() -> bool:
    return sys.platform.startswith("linux") and is_root()


def first_closed_ancestor(path: Path) -> Path | None:
    """The highest folder above ``path`` that other users cannot enter (pyenv's Python under /root)."""
    for folder in [*reversed(Path(path).resolve().parents)][1:]:
        if not folder.stat().st_mode & 0o001:
            return folder
    return None


def _reopen(closed: Path, needed: list[Path]) -> None:
    """Hide ``closed`` (e.g. the grader's home) under an empty tmpfs others may enter, then bind
    back only ``needed`` below it (the Python and the kit the student's servers run on)."""
    fds = [(p, os.open(p, os.O_RDONLY | os.O_DIRECTORY)) for p in needed]
    try:
        _mount("tmpfs", str(closed), "tmpfs", 0, "size=16m,mode=0711")
        for path, fd in fds:
            path.mkdir(parents=True, exist_ok=True)
            _mount(f"/proc/self/fd/{fd}", str(path), None, MS_BIND | MS_REC)
    finally:
        for _path, fd in fds:
            os.close(fd)


def isolate(hide: list[Path], kit_root: Path) -> None:
    """Enter new mount and network namespaces (call while single-threaded), bring up loopback,
    and hide ``hide`` (the class folder) and the kit's model solution under empty read-only mounts.
    A folder on the way to the Python or the kit that other users cannot enter (the grader's home)
    is replaced by one holding only those, so the student's user can run them and see nothing else."""
    _check(_libc().unshare(CLONE_NEWNS | CLONE_NEWNET), "unshare")
    _mount("none", "/", None, MS_REC | MS_PRIVATE)
    _loopback_up()
    for path in [*hide, *(kit_root / name for name in KIT_SOLUTION)]:
        if path.is_dir():
            _mount("tmpfs", str(path), "tmpfs", MS_RDONLY, "size=4k,mode=0555")
        elif path.is_file():
            _mount("/dev/null", str(path), None, MS_BIND)
    needed = runtime_paths()
    by_closed: dict[Path, list[Path]] = {}
    for path in needed:
        closed = first_closed_ancestor(path)
        if closed is not None:
            by_closed.setdefault(closed, []).append(path)
    for closed, paths in sorted(by_closed.items()):
        _reopen(closed, paths)
