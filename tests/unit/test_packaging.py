"""The wheel carries both import packages and installs into a clean venv (not this repo's)."""

from __future__ import annotations

import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_wheel_installs_and_imports_outside_the_repo(tmp_path: Path) -> None:
    out = tmp_path / "dist"
    build = [
        sys.executable,
        "-m",
        "pip",
        "wheel",
        "--no-deps",
        "--no-build-isolation",
        "-w",
        str(out),
        str(ROOT),
    ]
    subprocess.run(build, check=True, capture_output=True, timeout=300)
    wheel = next(out.glob("klingsim-*.whl"))
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    # Install the wheel alone into the clean venv; its dependencies come from this environment's site-packages
    # on PYTHONPATH, where .pth files (and so this repo's editable install) are not processed.
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", str(wheel)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    probe = (
        "import klingsim, klingsim_contracts, klingsim.providers, klingsim.server;"
        "print(klingsim.__file__); print(klingsim_contracts.__file__)"
    )
    result = subprocess.run(
        [str(python), "-c", probe],
        check=False,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": sysconfig.get_paths()["purelib"]},
    )
    assert result.returncode == 0, result.stderr
    for line in result.stdout.splitlines():
        assert str(env_dir) in line and str(ROOT) not in line
    assert (env_dir / "bin" / "klingsim").exists()
