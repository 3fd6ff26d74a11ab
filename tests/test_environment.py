"""pyproject.toml, environment.yml and constraints.txt pin the same versions."""
from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def pyproject_pins() -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    deps = project["dependencies"] + [d for group in project["optional-dependencies"].values() for d in group]
    pins = {}
    for dep in deps:
        name, _, version = dep.partition("==")
        assert version, f"{dep} is not pinned with == in pyproject.toml"
        assert pins.setdefault(name.lower(), version) == version, f"{name} is pinned twice, differently"
    return pins


def environment_pins() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "environment.yml").read_text().splitlines():
        m = re.match(r"^\s*-\s+([A-Za-z0-9_.-]+)\s*(==|=)\s*([0-9][^\s#]*)", line)
        if m and m.group(1) != "python":
            pins[m.group(1).lower()] = m.group(3)
    return pins


def test_environment_yml_matches_pyproject():
    assert environment_pins() == pyproject_pins()


def test_constraints_pin_every_direct_dependency_at_the_same_version():
    constraints = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        name, _, version = line.partition("==")
        constraints[name.strip().lower().replace("_", "-")] = version.strip()
    for name, version in pyproject_pins().items():
        assert constraints.get(name) == version, f"constraints.txt has {name}=={constraints.get(name)}, not {version}"


# ---------------------------------------------------------------- Binder / repo2docker
def _playwright_chromium_libraries(platform: str = "ubuntu22.04-x64") -> set[str]:
    """The Ubuntu packages the installed (pinned) Playwright says its Chromium needs."""
    import playwright

    bundle = Path(playwright.__file__).parent / "driver" / "package" / "lib" / "coreBundle.js"
    text = bundle.read_text(encoding="utf-8")
    block = re.search(r'"%s": \{.*?chromium: \[(.*?)\]' % re.escape(platform), text, re.S)
    assert block, f"{bundle} no longer lists {platform}'s Chromium libraries: read the new list into apt.txt"
    return set(re.findall(r'"([^"]+)"', block.group(1)))


def test_apt_txt_has_what_playwrights_chromium_needs_on_ubuntu():
    apt = {line.strip() for line in (ROOT / "apt.txt").read_text().splitlines()
           if line.strip() and not line.startswith("#")}
    needed = _playwright_chromium_libraries()
    assert needed <= apt, f"apt.txt lacks {sorted(needed - apt)}"
    assert "chromium" not in apt and "chromium-browser" not in apt  # Ubuntu's is a snap stub


def test_environment_yml_installs_the_kit_and_the_lab_for_binder():
    env = (ROOT / "environment.yml").read_text()
    assert re.search(r"^\s+-\s+-e \.\s*$", env, re.M), "environment.yml must pip-install the kit itself (-e .)"
    python = re.search(r"^\s+-\s+python=(\d+)\.(\d+)", env, re.M)
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    low = re.search(r">=\s*(\d+)\.(\d+)", project["requires-python"])
    assert python and low and tuple(map(int, python.groups())) >= tuple(map(int, low.groups()))
    pins = environment_pins()
    for name in project["optional-dependencies"]["lab"]:
        dist, _, version = name.partition("==")
        assert pins.get(dist.lower()) == version, f"environment.yml lacks {name} (Binder starts from it)"


def test_postbuild_installs_chromium_and_checks_the_proxy():
    post = ROOT / "postBuild"
    text = post.read_text()
    assert text.startswith("#!/bin/bash") and post.stat().st_mode & 0o111, "postBuild must be an executable script"
    assert "set -euo pipefail" in text
    assert re.search(r"^python -m playwright install chromium$", text, re.M)
    assert "jupyter_server_proxy" in text
