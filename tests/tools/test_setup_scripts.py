"""The setup around ``make run`` and ``make test``: the version and package checks of
``tools/ensure_venv.sh`` and ``tools/ensure_test_deps.sh``, and what ``make clean`` removes.

The script tests run the real scripts with a stand-in: the real python3 made to report an old
version (or to lack ``ensurepip``, as on Debian without python3-venv), or a ``node`` on ``PATH``
that reports an old version. The scripts must stop with a message that says what to install,
before changing anything.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def executable(path: Path, text: str) -> Path:
    path.write_text(text)
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return path


def python_with(directory: Path, sitecustomize: str) -> Path:
    """A ``python3`` that runs the real interpreter with ``sitecustomize`` loaded first."""
    directory.mkdir()
    (directory / "sitecustomize.py").write_text(sitecustomize)
    real = Path(sys.base_prefix) / "bin" / "python3"
    return executable(
        directory / "python3", f'#!/bin/sh\nPYTHONPATH="{directory}" exec "{real}" "$@"\n'
    )


def test_ensure_venv_stops_on_a_python_older_than_3_11(tmp_path: Path) -> None:
    old = python_with(
        tmp_path / "old",
        "import sys\nsys.version_info = (3, 9, 2, 'final', 0)\nsys.version = '3.9.2 (old)'\n",
    )
    result = subprocess.run(
        [str(ROOT / "tools" / "ensure_venv.sh"), "requirements.txt"],
        cwd=ROOT,
        env={**os.environ, "PYTHON": str(old), "VENV": str(tmp_path / "venv")},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "needs Python 3.11 or newer" in result.stderr
    assert "3.9.2" in result.stderr
    assert not (tmp_path / "venv").exists()


def test_ensure_venv_names_python3_venv_when_ensurepip_is_missing(tmp_path: Path) -> None:
    python = python_with(tmp_path / "novenv", "import sys\nsys.modules['ensurepip'] = None\n")
    # A PATH with bash and id only: no apt-get to install python3-venv with, even as root.
    tools = tmp_path / "bin"
    tools.mkdir()
    for name in ("bash", "id"):
        found = shutil.which(name)
        assert found is not None
        (tools / name).symlink_to(found)
    result = subprocess.run(
        [str(ROOT / "tools" / "ensure_venv.sh"), "requirements.txt"],
        cwd=ROOT,
        env={"PATH": str(tools), "PYTHON": str(python), "VENV": str(tmp_path / "venv")},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1, result.stderr
    assert "apt-get install python3-venv" in result.stderr
    assert not (tmp_path / "venv").exists()


def test_ensure_test_deps_stops_on_a_node_older_than_18(tmp_path: Path) -> None:
    executable(tmp_path / "node", "#!/bin/sh\necho v16.20.2\n")
    env = {**os.environ, "PATH": f"{tmp_path}{os.pathsep}{os.environ['PATH']}"}
    result = subprocess.run(
        [str(ROOT / "tools" / "ensure_test_deps.sh")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 1
    assert "need Node 18 or newer" in result.stderr
    assert "v16.20.2" in result.stderr


def test_ensure_test_deps_accepts_this_machines_node() -> None:
    assert shutil.which("node"), "node is a test dependency"
    result = subprocess.run(
        [str(ROOT / "tools" / "ensure_test_deps.sh")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr


def test_make_clean_removes_every_generated_folder(tmp_path: Path) -> None:
    shutil.copy(ROOT / "Makefile", tmp_path / "Makefile")
    generated = [".venv", "var", ".mypy_cache", ".ruff_cache", ".pytest_cache", ".hypothesis"]
    for name in generated:
        (tmp_path / name).mkdir()
        (tmp_path / name / "file").write_text("x")
    (tmp_path / "kept.txt").write_text("source")
    subprocess.run(["make", "clean"], cwd=tmp_path, check=True, capture_output=True, timeout=60)
    assert sorted(path.name for path in tmp_path.iterdir()) == ["Makefile", "kept.txt"]
