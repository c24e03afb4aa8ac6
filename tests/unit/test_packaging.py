"""The wheel carries both import packages and, installed alone into a clean venv, gives every command.

Offline: the clean venv sees only the distributions the wheel's metadata requires (transitively), linked from
this environment into a directory of their own, so a dependency the wheel forgets to declare is missing there.
"""

from __future__ import annotations

import re
import subprocess
import sys
import venv
import zipfile
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[2]
KIT_DEPENDENCIES = ("schemathesis", "respx", "requests", "pytest", "swagger-ui-bundle-v2")

FIXTURE_TEST = """
import httpx

def test_create_through_the_fixture(klingsim):
    answer = httpx.post(
        "https://kling3api.com/api/generate",
        headers={"Authorization": "Bearer k3a_live_0123456789abcdef"},
        json={"type": "std-text-to-video", "prompt": "x"},
    )
    assert answer.status_code == 200
    assert klingsim.requests[0]["path"] == "/api/generate"
"""


def _name(text: str) -> str:
    return re.sub(r"[-_.]+", "-", text).lower()


def _closure(requirements: list[str]) -> set[str]:
    """Every installed distribution these requirements pull in (markers evaluated, extras followed)."""
    seen: set[str] = set()
    todo = [(Requirement(r), "") for r in requirements]
    while todo:
        req, extra = todo.pop()
        if req.marker is not None and not req.marker.evaluate({"extra": extra}):
            continue
        name = _name(req.name)
        wanted = [(name, e) for e in ("", *sorted(req.extras))]
        for dist_name, chosen in wanted:
            key = f"{dist_name}[{chosen}]"
            if key in seen:
                continue
            seen.add(key)
            dist = metadata.distribution(dist_name)
            todo.extend((Requirement(r), chosen) for r in dist.requires or [])
    return {key.partition("[")[0] for key in seen}


def _link_distributions(names: set[str], target: Path) -> None:
    """Symlink each distribution's top-level files and its metadata directory into `target`."""
    target.mkdir()
    for name in names:
        dist = metadata.distribution(name)
        base = Path(str(dist.locate_file("")))
        tops = {Path(str(f)).parts[0] for f in dist.files or () if not str(f).startswith("..")}
        for top in tops:
            source = base / top
            link = target / top
            if source.exists() and not link.exists() and top != "__pycache__" and not top.endswith(".pth"):
                link.symlink_to(source)


def _wheel(tmp_path: Path) -> Path:
    out = tmp_path / "dist"
    build = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-w", str(out)]
    subprocess.run([*build, str(ROOT)], check=True, capture_output=True, timeout=300)
    return next(out.glob("klingsim-*.whl"))


def _requires(wheel: Path) -> list[str]:
    with zipfile.ZipFile(wheel) as zf:
        name = next(n for n in zf.namelist() if n.endswith(".dist-info/METADATA"))
        text = zf.read(name).decode()
    return [line.split(":", 1)[1].strip() for line in text.splitlines() if line.startswith("Requires-Dist:")]


def test_wheel_declares_the_kit_dependencies_and_ships_the_license(tmp_path: Path) -> None:
    wheel = _wheel(tmp_path)
    declared = {_name(Requirement(r).name) for r in _requires(wheel) if "extra ==" not in r}
    assert set(KIT_DEPENDENCIES) <= declared
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
    assert any(n.endswith("licenses/LICENSE") for n in names)
    assert {
        "klingsim/server/ui/index.html",
        "klingsim/server/ui/app.js",
        "klingsim/server/ui/style.css",
    } <= set(names)
    assert "MIT License" in (ROOT / "LICENSE").read_text()


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A clean venv holding the wheel and only the distributions its metadata requires."""
    tmp_path = tmp_path_factory.mktemp("install")
    wheel = _wheel(tmp_path)
    deps = tmp_path / "deps"
    _link_distributions(_closure([r for r in _requires(wheel) if "extra ==" not in r]), deps)
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    purelib = subprocess.run(
        [str(env_dir / "bin" / "python"), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    (Path(purelib) / "klingsim_test_deps.pth").write_text(str(deps) + "\n")
    # --no-index: pip must find every requirement already installed (the linked directory), or fail.
    install = [sys.executable, "-m", "pip", "--python", str(env_dir / "bin" / "python"), "install"]
    done = subprocess.run(
        [*install, "--no-index", "--no-build-isolation", str(wheel)],
        check=False,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return env_dir


def _run(env_dir: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {"PATH": f"{env_dir / 'bin'}:/usr/bin:/bin", "HOME": str(cwd), "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run(
        list(args), check=False, cwd=cwd, capture_output=True, text=True, timeout=300, env=env
    )


def test_installed_wheel_imports_from_the_venv_not_the_repo(installed: Path, tmp_path: Path) -> None:
    probe = (
        "import klingsim, klingsim_contracts; print(klingsim.__file__); print(klingsim_contracts.__file__)"
    )
    result = _run(installed, str(installed / "bin" / "python"), "-c", probe, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    for line in result.stdout.splitlines():
        assert str(installed) in line and str(ROOT) not in line


def test_installed_cli_has_version_and_the_gateway_kit(installed: Path, tmp_path: Path) -> None:
    cli = str(installed / "bin" / "klingsim")
    version = _run(installed, cli, "--version", cwd=tmp_path)
    assert version.returncode == 0 and version.stdout.strip() == "klingsim 0.1.0", version.stderr
    gateway = _run(installed, cli, "check", "gateway", "--help", cwd=tmp_path)
    assert gateway.returncode == 0, gateway.stderr
    assert "--upstream-control" in gateway.stdout


def test_installed_pytest_plugin_gives_the_klingsim_fixture(installed: Path, tmp_path: Path) -> None:
    (tmp_path / "test_uses_fixture.py").write_text(FIXTURE_TEST)
    python = str(installed / "bin" / "python")
    result = _run(installed, python, "-m", "pytest", "-q", "-p", "no:cacheprovider", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout


SERVE_PAGES = """
import asyncio, httpx
from klingsim.server.app import create_app

async def main():
    transport = httpx.ASGITransport(app=create_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        for path in ("/_klingsim/ui/", "/_klingsim/ui/app.js", "/_klingsim/docs",
                     "/_klingsim/docs/assets/swagger-ui-bundle.js", "/evolink/docs"):
            print(path, (await http.get(path)).status_code)

asyncio.run(main())
"""


def test_installed_package_serves_the_dashboard_and_docs_assets(installed: Path, tmp_path: Path) -> None:
    result = _run(installed, str(installed / "bin" / "python"), "-c", SERVE_PAGES, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert [line.split()[-1] for line in result.stdout.splitlines()] == ["200"] * 5, result.stdout
