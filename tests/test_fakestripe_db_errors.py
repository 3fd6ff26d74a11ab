"""`labkit fakestripe --db FILE` on a file it cannot open or write: one line naming the file and the fix,
exit 2, never a traceback; a call that cannot be written later is a one-line 500."""
from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import stripe

from labkit.settings import project_root

ROOT = project_root()
NOBODY = 65534  # as root every file is writable: read-only is tried as an ordinary user
pytestmark = pytest.mark.skipif(os.name == "nt", reason="POSIX permissions")


@pytest.fixture()
def folder():
    path = Path(tempfile.mkdtemp(prefix="labkit-db-errors-"))
    path.chmod(0o755)
    yield path
    path.chmod(0o755)  # read_only() may have made it read-only
    subprocess.run(["rm", "-rf", str(path)], check=False)


def nobody_can_run_the_kit() -> bool:
    """As root, a read-only file is tried as an ordinary user: only if that user can read the kit here."""
    try:
        return subprocess.run([sys.executable, "-c", "import labkit.fakestripe"], cwd=ROOT, capture_output=True,
                              timeout=60, user=NOBODY, group=NOBODY, extra_groups=[]).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


def fakestripe(db: Path, as_nobody: bool = False) -> subprocess.CompletedProcess:
    """Run the command until it either fails or says it listens (then stop it)."""
    as_user = {"user": NOBODY, "group": NOBODY, "extra_groups": []} if as_nobody else {}
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LABKIT_", "STRIPE_"))}
    proc = subprocess.Popen([sys.executable, "-m", "labkit.cli", "fakestripe", "--port", "0", "--db", str(db)],
                            cwd=ROOT, env={**env, "HOME": str(db.parent)}, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, **as_user)
    first = proc.stdout.readline()
    if first.startswith("Fake Stripe listening"):
        proc.terminate()
    out, err = proc.communicate(timeout=60)
    return subprocess.CompletedProcess(proc.args, proc.returncode, first + out, err)


def read_only(folder: Path) -> Path:
    db = folder / "ro.db"
    sqlite3.connect(db).execute("CREATE TABLE t (x)").connection.close()
    db.chmod(0o444)
    if os.geteuid() != 0:
        folder.chmod(0o555)
    return db


def corrupt(folder: Path) -> Path:
    db = folder / "corrupt.db"
    db.write_bytes(b"not a database at all " * 100)
    return db


def another_programs(folder: Path) -> Path:
    db = folder / "other.db"
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE objects (id TEXT PRIMARY KEY, name TEXT)")
    con.commit()
    con.close()
    return db


def a_folder(folder: Path) -> Path:
    (folder / "state").mkdir()
    return folder / "state"


def parent_is_a_file(folder: Path) -> Path:
    (folder / "notes.txt").write_text("a file")
    return folder / "notes.txt" / "fake.db"


@pytest.mark.parametrize("make, says", [
    (read_only, "make the file and its folder"),
    (corrupt, "is not a fake Stripe database"),
    (another_programs, "not the fake Stripe's"),
    (a_folder, "is a folder, not a database file"),
    (parent_is_a_file, "cannot create the folder"),
])
def test_a_database_the_fake_cannot_use_is_one_line(folder, make, says):
    as_nobody = make is read_only and os.geteuid() == 0  # root may write any file
    if as_nobody and not nobody_can_run_the_kit():
        pytest.skip("running as root, and an ordinary user cannot read the kit in this folder")
    if as_nobody:
        os.chown(folder, NOBODY, NOBODY)  # the user's folder; the file stays root's and read-only
    db = make(folder)
    out = fakestripe(db, as_nobody)
    assert out.returncode == 2, out.stdout + out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in out.stderr, out.stderr
    assert lines[0].startswith("labkit fakestripe: ") and says in lines[0] and str(db) in lines[0]
    assert "--db" in lines[0]


def test_a_missing_folder_is_made(folder):
    out = fakestripe(folder / "new" / "deeper" / "fake.db")
    assert out.stdout.startswith("Fake Stripe listening"), out.stderr
    assert (folder / "new" / "deeper" / "fake.db").is_file()


def test_a_call_that_cannot_be_written_is_a_one_line_500(tmp_path, monkeypatch, caplog):
    from labkit.fakestripe import FakeStripe

    with FakeStripe(db_path=tmp_path / "fake.db") as fake:
        client = stripe.StripeClient("sk_test_db_errors", base_addresses={"api": fake.url}, max_network_retries=0)
        real_execute = fake.app.store._db.execute

        class Full:  # sqlite3.Connection's methods are read-only: wrap the connection instead
            def __getattr__(self, name):
                return getattr(fake.app.store._db_real, name)

            def execute(self, sql, *args):
                if sql.startswith("INSERT INTO objects"):
                    raise sqlite3.OperationalError("attempt to write a readonly database")
                return real_execute(sql, *args)

        fake.app.store._db_real = fake.app.store._db
        monkeypatch.setattr(fake.app.store, "_db", Full())
        with pytest.raises(stripe.APIError) as err:
            client.v1.payment_intents.create(params={"amount": 500, "currency": "usd"})
        assert "cannot write the database" in err.value.user_message and "fake.db" in err.value.user_message
        assert "Traceback" not in caplog.text
        monkeypatch.setattr(fake.app.store, "_db", fake.app.store._db_real)
