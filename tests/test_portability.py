"""Students' laptops (issue 18): Windows, macOS and every Python the pins allow, simulated on Linux.

Each test recreates one cause: a Python outside the range, a cp1252 console, a Windows registry
that maps ``.js`` to ``text/plain``, a file held open, a UTF-16 ``.env``, no ``signal.SIGKILL``,
an occupied port, a Ctrl-C, a non-root Ubuntu without Chromium, a long OneDrive path.
"""
from __future__ import annotations

import _thread
import codecs
import functools
import importlib.util
import io
import mimetypes
import os
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import requests
from flask import Flask

from labkit.console import setup_console, to_ascii
from labkit.files import FileBusyError, delete, write_bytes
from labkit.kit_server import (BackgroundServer, PortInUseError, _socket_options, listening_socket,
                            port_in_use_message, wait_while_running)
from labkit.settings import SettingsError, load_settings, read_env_file, shown_path

ROOT = Path(__file__).resolve().parents[1]


def load_run_py():
    spec = importlib.util.spec_from_file_location("labkit_run_py", ROOT / "run.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def child_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STRIPE_", "LABKIT_", "PYTHONIOENCODING"))}
    return {**env, **extra}


# ------------------------------------------------------------------ 1. the Python range, set-up failures
@pytest.mark.parametrize("version", [(3, 10, 13), (3, 11, 2), (3, 11, 4), (3, 15, 0), (3, 16, 1)])
def test_a_python_outside_the_pins_range_gets_one_line_naming_one_to_use(version):
    message = load_run_py().python_problem(version)
    assert message and "\n" not in message
    assert "3.11.5 to 3.14" in message and ".".join(map(str, version)) in message
    assert "python3.13 run.py " in message or "py -3.13 run.py " in message


@pytest.mark.parametrize("version", [(3, 11, 5), (3, 11, 9), (3, 12, 1), (3, 13, 0), (3, 14, 2)])
def test_every_python_the_pins_have_wheels_for_is_accepted(version):
    assert load_run_py().python_problem(version) is None


def test_pyproject_states_the_same_range_as_run_py():
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["requires-python"] == ">=3.11.5,<3.15"
    listed = {c.rsplit(":: ", 1)[1] for c in project["classifiers"] if c.startswith("Programming Language :: Python :: 3.")}
    assert listed == {"3.11", "3.12", "3.13", "3.14"}


def test_a_failed_set_up_step_is_one_line_not_a_traceback(monkeypatch, capsys):
    run = load_run_py()

    def pip_fails(*cmd, check=True, **kw):
        raise subprocess.CalledProcessError(1, [str(c) for c in cmd])

    monkeypatch.setattr(run, "STAMP", Path("/nonexistent/stamp"))  # forces the install step
    monkeypatch.setattr(run, "PY", Path(sys.executable))  # a kit not set up yet gets no virtualenv made by a test
    monkeypatch.setattr(run, "sh", pip_fails)
    assert run.main(["setup"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "set-up step failed (exit code 1)" in err and "pip install" in err
    assert "Traceback" not in err


def test_a_python_without_venv_support_gets_the_package_to_install(monkeypatch, tmp_path, capsys):
    """Debian and Ubuntu (and WSL) ship python3 without ensurepip until python3-venv is installed."""
    run = load_run_py()

    def no_ensurepip(self, env_dir):
        (Path(env_dir) / "bin").mkdir(parents=True)
        raise subprocess.CalledProcessError(1, ["python", "-m", "ensurepip"])

    monkeypatch.setattr(run, "VENV", tmp_path / ".venv")
    monkeypatch.setattr(run, "PY", tmp_path / ".venv" / "bin" / "python")
    monkeypatch.setattr(run.venv.EnvBuilder, "create", no_ensurepip)
    assert run.main(["setup"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "sudo apt-get install python3-venv" in err and "Traceback" not in err
    assert not (tmp_path / ".venv").exists()  # no half virtualenv left to be mistaken for a whole one


def test_run_py_refuses_an_old_python_before_doing_anything(monkeypatch, capsys):
    run = load_run_py()
    monkeypatch.setattr(run, "python_problem", functools.partial(run.python_problem, (3, 10, 13)))
    monkeypatch.setattr(run, "sh", lambda *a, **k: pytest.fail("nothing may run on a Python outside the range"))
    assert run.main(["demo"]) == 1
    assert capsys.readouterr().err.strip().endswith(("python3.13 run.py demo", "python3.13 run.py lab"))


def test_ubuntu_without_root_gets_playwrights_chromium_not_sudo(monkeypatch):
    run = load_run_py()
    found = iter([None, "/home/student/.cache/ms-playwright/chromium/chrome"])
    calls = []
    monkeypatch.setattr(run, "find_chromium", lambda: next(found))
    monkeypatch.setattr(run, "sh", lambda *cmd, check=True, **kw: calls.append([str(c) for c in cmd]) or 0)
    monkeypatch.setattr(run.shutil, "which", lambda name: "/usr/bin/apt-get")
    monkeypatch.setattr(run.os, "geteuid", lambda: 1000, raising=False)
    monkeypatch.setattr(run.Path, "exists", lambda self: True)  # /etc/debian_version: Debian or Ubuntu
    run.ensure_chromium()
    assert calls == [[str(run.PY), "-m", "playwright", "install", "chromium"]]


def test_a_failed_chromium_download_says_what_to_do_in_one_line(monkeypatch, capsys):
    run = load_run_py()
    monkeypatch.setattr(run, "ensure_venv", lambda: None)
    monkeypatch.setattr(run, "find_chromium", lambda: None)
    monkeypatch.setattr(run, "sh", lambda *cmd, check=True, **kw: 1)
    monkeypatch.setattr(run.os, "geteuid", lambda: 1000, raising=False)
    assert run.main(["setup"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "playwright install chromium" in err and "LABKIT_CHROMIUM" in err


def test_a_long_kit_path_on_windows_warns_about_the_260_character_limit():
    run = load_run_py()
    onedrive = Path("C:/Users/first.last/OneDrive - Some University of Technology/Courses/ITEC-442 Electronic "
                    "Commerce/Week 09/labkit-main")
    assert "260-character" in run.long_path_warning(onedrive, windows=True, long_paths=False)
    assert run.long_path_warning(onedrive, windows=True, long_paths=True) is None  # LongPathsEnabled=1
    assert run.long_path_warning(Path("C:/labkit"), windows=True, long_paths=False) is None
    assert run.long_path_warning(onedrive, windows=False) is None


def test_run_py_reads_the_chromium_path_whole_from_a_cp1252_child(tmp_path, monkeypatch):
    """A path outside the console's code page came back garbled, so run.py reinstalled Chromium."""
    run = load_run_py()
    if not run.PY.exists():
        pytest.skip("run.py setup has not made .venv")
    fake = tmp_path / "Chromium – Ελληνικά ✓" / "chrome"
    fake.parent.mkdir()
    fake.write_text("#!/bin/sh\nexit 0\n")
    fake.chmod(0o755)
    monkeypatch.setenv("LABKIT_CHROMIUM", str(fake))
    monkeypatch.setenv("PYTHONIOENCODING", "cp1252")
    assert run.find_chromium() == str(fake)


# ------------------------------------------------------------------ 2. console output on any code page
def cp1252_stream() -> tuple[io.TextIOWrapper, io.BytesIO]:
    raw = io.BytesIO()
    return io.TextIOWrapper(raw, encoding="cp1252", write_through=True), raw


def test_the_kits_marks_print_on_a_cp1252_stream():
    stream, raw = cp1252_stream()
    with pytest.raises(UnicodeEncodeError):
        print("✓ 01_setup.ipynb", file=stream)
    setup_console(stream)
    print("✓ done ✗ missing ◐ partial · grader → next … café", file=stream)
    assert raw.getvalue().decode("cp1252") == "OK done X missing ~ partial · grader -> next … café\n"


def test_a_utf8_stream_is_left_alone():
    raw = io.BytesIO()
    stream = io.TextIOWrapper(raw, encoding="utf-8", write_through=True)
    setup_console(stream)
    stream.write("✓")
    assert raw.getvalue() == "✓".encode() and to_ascii("✓ → ✗") == "OK -> X"


def test_labkit_check_on_a_cp1252_pipe_prints_every_mark(tmp_path):
    # no answers yet (an empty answers folder): Part D is [missing] whatever the student's code does, so this
    # passes before and after the student's work alike; Part A is [ok] offline
    (tmp_path / "answers").mkdir()
    done = subprocess.run([sys.executable, "-m", "labkit.cli", "check", "--part", "A", "--part", "D"], cwd=ROOT,
                          capture_output=True,
                          env=child_env(PYTHONIOENCODING="cp1252", LABKIT_OUT=str(tmp_path),
                                        LABKIT_ANSWERS=str(tmp_path / "answers")), timeout=120)
    out, err = done.stdout.decode("cp1252"), done.stderr.decode("cp1252")
    assert done.returncode == 1, err  # an item is missing (labkit check's exit status), and nothing crashed
    assert "Traceback" not in err and "UnicodeEncodeError" not in err
    assert "\n  [ok] " in out and "\n  [missing] " in out  # one line per check, in ASCII marks


# ------------------------------------------------------------------ 3. content types, whatever the OS says
@pytest.fixture()
def js_is_text_plain():
    """What the Windows registry says on some machines (mimetypes reads it there)."""
    before = {ext: mimetypes.guess_type("x" + ext)[0] for ext in (".js", ".css")}
    mimetypes.add_type("text/plain", ".js")
    mimetypes.add_type("text/plain", ".css")
    assert mimetypes.guess_type("checkout.js")[0] == "text/plain"
    yield
    for ext, kind in before.items():
        mimetypes.add_type(kind, ext)


def students_checkout(fake):
    """checkout_server.py in this process, prepared as the kit's child process prepares it."""
    from labkit.kit_server import register_static_types
    from labkit.settings import project_root
    from tests.helpers import import_student_app

    register_static_types()
    return import_student_app(project_root() / "checkout_server.py", fake.url)


def test_checkout_assets_keep_their_types_when_the_os_maps_js_to_text_plain(js_is_text_plain, fake):
    http = students_checkout(fake).test_client()
    js, css = http.get("/static/checkout.js"), http.get("/static/checkout.css")
    assert js.headers["Content-Type"].startswith("text/javascript")
    assert css.headers["Content-Type"].startswith("text/css")
    assert js.headers["X-Content-Type-Options"] == "nosniff"  # why the type matters: no guessing by the browser


def test_the_fake_stripes_files_keep_their_types_too(js_is_text_plain, fake):
    for path, kind in (("/v3/", "text/javascript"), ("/static/card.js", "text/javascript"),
                       ("/static/card.css", "text/css"), ("/elements/card", "text/html")):
        resp = requests.get(fake.url + path, timeout=10)
        assert resp.status_code == 200 and resp.headers["Content-Type"].startswith(kind), path


@pytest.mark.browser
@pytest.mark.solution
def test_a_payment_goes_through_when_the_os_maps_js_to_text_plain(js_is_text_plain, fake, client, chromium):
    from labkit.browser import load_scenarios, run_scenarios
    from labkit.student.server_process import StripeRewrite

    success = [s for s in load_scenarios() if s.key == "success"]
    with BackgroundServer(StripeRewrite(students_checkout(fake), fake.url)) as shop:
        [run] = run_scenarios(shop.url, success, client=client, executable_path=chromium)
    assert run.outcome == "succeeded", run


# ------------------------------------------------------------------ 4. files held open (Windows)
def held_open(monkeypatch, name: str) -> None:
    """Windows' answer to replacing or deleting a file another program has open (WinError 32)."""
    real_replace, real_unlink = os.replace, Path.unlink

    def replace(src, dst, *a, **k):
        if Path(dst).name == name:
            raise PermissionError(13, "The process cannot access the file because it is being used by another process")
        return real_replace(src, dst, *a, **k)

    def unlink(self, *a, **k):
        if self.name == name:
            raise PermissionError(13, "The process cannot access the file because it is being used by another process")
        return real_unlink(self, *a, **k)

    monkeypatch.setattr("labkit.files.os.replace", replace)
    monkeypatch.setattr(Path, "unlink", unlink)
    monkeypatch.setattr("labkit.files.time.sleep", lambda s: None)


def test_a_file_open_elsewhere_is_named_and_left_whole(tmp_path, monkeypatch):
    target = tmp_path / "lab09_submission.pdf"
    target.write_bytes(b"the old PDF")
    held_open(monkeypatch, target.name)
    with pytest.raises(FileBusyError, match=r"lab09_submission\.pdf is open in another program.*close it"):
        write_bytes(target, b"the new PDF")
    assert target.read_bytes() == b"the old PDF" and [p.name for p in tmp_path.iterdir()] == [target.name]


def test_deleting_a_file_open_elsewhere_says_what_holds_it(tmp_path, monkeypatch):
    db = tmp_path / "notebook03_webhooks.db"
    db.write_bytes(b"SQLite format 3\0")
    held_open(monkeypatch, db.name)
    with pytest.raises(FileBusyError, match=r"notebook03_webhooks\.db cannot be deleted.*the lab"):
        delete(db, held_by="the lab this notebook started before")
    assert db.exists()
    assert delete(tmp_path / "absent.db") is False


def test_notebook_03_set_up_rerun_names_the_database_to_close(tmp_path, monkeypatch):
    from labkit.webhooks.attacks import fresh_db

    db = tmp_path / "notebook03_webhooks.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").write_bytes(b"x")
    held_open(monkeypatch, db.name + "-wal")
    with pytest.raises(FileBusyError, match=r"notebook03_webhooks\.db-wal .*Kernel → Restart"):
        fresh_db(db)
    monkeypatch.undo()
    assert fresh_db(db) == db and not list(tmp_path.iterdir())


@pytest.mark.browser
def test_export_while_the_pdf_is_open_in_a_viewer_is_one_line(tmp_path, monkeypatch, capsys, chromium):
    from labkit.cli import main
    from tests.helpers import use_lab_for_the_cli, write_lab

    paths, settings, root = write_lab(tmp_path)
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "lab09_submission.pdf").write_bytes(b"%PDF open in a viewer")
    use_lab_for_the_cli(monkeypatch, settings, root, chromium=chromium)
    held_open(monkeypatch, "lab09_submission.pdf")
    code = main(["export", "--notebooks", str(paths[0].parent), "--out", str(tmp_path / "sub"), "--student", "A"])
    err = capsys.readouterr().err
    assert code == 1 and "Traceback" not in err
    assert err.startswith("labkit export: ") and "lab09_submission.pdf is open in another program" in err
    assert (tmp_path / "sub" / "lab09_submission.pdf").read_bytes() == b"%PDF open in a viewer"


# ------------------------------------------------------------------ 7. .env as Windows editors save it
ENV_TEXT = "STRIPE_PUBLISHABLE_KEY=pk_test_labkit_from_dotenv_1234\nLABKIT_STUDENT_NAME=Zoë Ångström\n"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be"])
def test_dotenv_in_utf8_with_or_without_bom_and_utf16_is_read(tmp_path, encoding):
    env = tmp_path / ".env"
    env.write_bytes(ENV_TEXT.replace("\n", "\r\n").encode(encoding))  # Windows line ends too
    s = load_settings(environ={}, env_file=env)
    assert s.publishable_key == "pk_test_labkit_from_dotenv_1234" and s.student_name == "Zoë Ångström"


def test_powershell_51_echo_redirect_writes_utf16_with_bom(tmp_path):
    env = tmp_path / ".env"
    env.write_bytes(codecs.BOM_UTF16_LE + "LABKIT_STUDENT_NAME=Ada\r\n".encode("utf-16-le"))
    assert read_env_file(env) == {"LABKIT_STUDENT_NAME": "Ada"}


def test_a_dotenv_in_another_encoding_is_one_line_saying_how_to_save_it(tmp_path):
    env = tmp_path / ".env"
    env.write_bytes(ENV_TEXT.encode("cp1252"))
    with pytest.raises(SettingsError) as info:
        load_settings(environ={}, env_file=env)
    assert "\n" not in str(info.value) and ".env is not UTF-8" in str(info.value) and "UTF-8" in str(info.value)


def test_labkit_status_reads_a_utf16_dotenv_and_refuses_a_cp1252_one_in_one_line(tmp_path):
    env = tmp_path / ".env"
    env.write_bytes(codecs.BOM_UTF16_LE + "STRIPE_PUBLISHABLE_KEY=pk_oops\r\n".encode("utf-16-le"))
    done = subprocess.run([sys.executable, "-m", "labkit.cli", "status"], cwd=tmp_path, capture_output=True,
                          text=True, env=child_env(PYTHONPATH=str(ROOT)), timeout=60)
    assert done.returncode == 2 and "STRIPE_PUBLISHABLE_KEY is malformed" in done.stderr  # the file was read
    env.write_bytes("LABKIT_STUDENT_NAME=Zoë\n".encode("cp1252"))
    done = subprocess.run([sys.executable, "-m", "labkit.cli", "status"], cwd=tmp_path, capture_output=True,
                          text=True, env=child_env(PYTHONPATH=str(ROOT)), timeout=60)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.count("\n") == 1 and ".env is not UTF-8" in done.stderr


# ------------------------------------------------------------------ 8/9. no SIGKILL; paths; SYSTEMROOT
def test_killing_the_handler_works_where_there_is_no_sigkill(tmp_path, monkeypatch):
    from labkit.student.runner import StudentServer

    proc = StudentServer(ROOT / "webhook_handler.py", env={
        "STRIPE_SECRET_KEY": "sk_test_" + "p" * 24, "STRIPE_WEBHOOK_SECRET": "whsec_labkit_portability_test_0001",
        "ORDERS_DB": str(tmp_path / "h.db")}).start()
    try:
        monkeypatch.delattr(signal, "SIGKILL")  # as on Windows
        proc.kill()
        assert not proc.running and proc.proc.returncode is not None
        monkeypatch.undo()
        proc.start()  # same port, same database
        assert requests.get(proc.url + "/orders", timeout=10).json() == {}
    finally:
        proc.stop()


def test_paths_are_shown_with_forward_slashes():
    root = load_settings(environ={}, env_file=None)
    assert shown_path(root.out_dir / "charts" / "payments.png") == "out/charts/payments.png"
    assert shown_path(Path("/elsewhere") / "x" / "y.db") == "/elsewhere/x/y.db"


def test_student_servers_keep_systemroot_and_drop_the_parents_keys(monkeypatch):
    """Python does not start on Windows without SYSTEMROOT: the clean environment a student's server
    gets must carry it over, and none of the parent's own STRIPE_/LABKIT_ values."""
    from labkit.student.runner import child_environ

    monkeypatch.setenv("SYSTEMROOT", "C:\\Windows")
    monkeypatch.setenv("STRIPE_SECRET_KEY", "sk_test_" + "z" * 24)
    monkeypatch.setenv("LABKIT_DB", "x.db")
    env = child_environ({"ORDERS_DB": "o.db"})
    assert env["SYSTEMROOT"] == "C:\\Windows" and env["ORDERS_DB"] == "o.db"
    assert "STRIPE_SECRET_KEY" not in env and "LABKIT_DB" not in env


# ------------------------------------------------------------------ 5/6. Ctrl-C and occupied ports
def hello():
    app = Flask("hello")
    app.get("/")(lambda: "hello")
    return app


@pytest.fixture()
def occupied():
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    yield sock.getsockname()[1]
    sock.close()


def test_an_occupied_port_is_refused_with_a_message(occupied):
    with pytest.raises(PortInUseError, match=f"port {occupied} on 127.0.0.1 is already in use"):
        BackgroundServer(hello(), port=occupied).start()


def test_an_occupied_port_is_refused_even_where_the_os_would_let_a_second_server_bind(occupied, monkeypatch):
    """Windows with SO_REUSEADDR (waitress's default) binds a busy port silently; SO_REUSEPORT does
    the same on Linux, so it stands in for it here: the listener probe still refuses."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind(("127.0.0.1", occupied))  # the OS allows it...
    sock.close()
    permissive = [(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)]
    monkeypatch.setattr("labkit.kit_server._socket_options", lambda windows=False: permissive)
    with pytest.raises(PortInUseError):  # ...the kit does not
        listening_socket("127.0.0.1", occupied)


def test_a_students_server_on_an_occupied_port_says_so_in_one_line(occupied):
    from labkit.student.runner import StudentServer, StudentServerError

    server = StudentServer(ROOT / "checkout_server.py", port=occupied, env={
        "STRIPE_SECRET_KEY": "sk_test_" + "p" * 24, "STRIPE_PUBLISHABLE_KEY": "pk_test_" + "p" * 24})
    with pytest.raises(StudentServerError) as err:
        server.start()
    assert f"port {occupied} on 127.0.0.1 is already in use" in str(err.value) and "\n" not in str(err.value)
    assert err.value.kind == "port" and not server.running


def test_windows_binds_exclusively(monkeypatch):
    monkeypatch.setattr(socket, "SO_EXCLUSIVEADDRUSE", -5, raising=False)  # Windows only
    assert _socket_options(windows=True) == [(socket.SOL_SOCKET, -5, 1)]
    assert (socket.SOL_SOCKET, socket.SO_REUSEADDR, 1) not in _socket_options(windows=True)


def test_a_busy_port_says_to_choose_another_with_port():
    for port in (5000, 5001, 12111):
        msg = port_in_use_message("127.0.0.1", port)
        assert "--port" in msg and f"--port {port + 50}" in msg and "\n" not in msg


def test_port_5000_mentions_airplay():
    assert "AirPlay Receiver" in port_in_use_message("127.0.0.1", 5000)
    assert "AirPlay" not in port_in_use_message("127.0.0.1", 5001)


def test_a_restart_on_the_same_port_still_works():
    with BackgroundServer(hello()) as srv:
        port = srv.port
        assert requests.get(srv.url, timeout=5).text == "hello"
    with BackgroundServer(hello(), port=port) as again:  # TIME_WAIT left behind is no conflict
        assert requests.get(again.url, timeout=5).text == "hello"


def test_labkit_fakestripe_on_an_occupied_port_is_one_line(occupied):
    done = subprocess.run([sys.executable, "-m", "labkit.cli", "fakestripe", "--port", str(occupied)], cwd=ROOT,
                          capture_output=True, text=True, env=child_env(), timeout=60)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert f"port {occupied} on 127.0.0.1 is already in use" in done.stderr and done.stderr.count("\n") == 1


def test_ctrl_c_reaches_a_foreground_server_without_thread_join(monkeypatch):
    """On Windows a Thread.join() without a timeout cannot be interrupted by Ctrl-C."""
    real_join = threading.Thread.join

    def join(self, timeout=None):
        if timeout is None and threading.current_thread() is threading.main_thread():
            raise AssertionError("join() without a timeout: Ctrl-C would not stop it on Windows")
        return real_join(self, timeout)

    monkeypatch.setattr(threading.Thread, "join", join)
    with BackgroundServer(hello()) as srv:
        threading.Timer(0.3, _thread.interrupt_main).start()
        with pytest.raises(KeyboardInterrupt):
            wait_while_running(srv)
        assert srv.running  # interrupted while it served; the with block stops it
    assert not srv.running


@pytest.mark.skipif(os.name == "nt", reason="SIGINT to a child is a POSIX way to press Ctrl-C")
def test_labkit_checkout_stops_on_ctrl_c(fake):
    proc = subprocess.Popen([sys.executable, "-m", "labkit.cli", "checkout", "--port", "0"], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env=child_env(LABKIT_STRIPE_API_BASE=fake.url, PYTHONUNBUFFERED="1"))
    try:
        lines = []
        while not lines or ("Ctrl-C to stop" not in lines[-1] and lines[-1] and len(lines) < 20):
            lines.append(proc.stdout.readline())
        assert "Ctrl-C to stop" in lines[-1], lines
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 0 and "Checkout server stopped." in out and "Traceback" not in out
