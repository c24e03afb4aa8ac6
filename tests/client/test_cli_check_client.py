"""`klingsim check client -- COMMAND`: a program in any language, run once per scenario, judged by what it
sent and its exit status."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FAST = ["--speed", "600", "--min-poll-interval", "0.1", "--timeout", "60"]


def klingsim(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "klingsim.cli", "check", "client", *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
        cwd=ROOT,
    )


def test_a_careful_program_passes(tmp_path: Path) -> None:
    junit = tmp_path / "client.xml"
    done = klingsim(
        "--provider",
        "kling3api",
        "--junit",
        str(junit),
        *FAST,
        "--",
        sys.executable,
        "examples/kling3api_client.py",
        "--requests",
        "--poll-every",
        "0.2",
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count("  ok   ") == 8
    assert 'tests="8" failures="0"' in junit.read_text()


def test_a_program_that_claims_success_without_a_video_is_rejected(tmp_path: Path) -> None:
    careless = tmp_path / "careless.py"
    careless.write_text(
        "import json, os, urllib.request\n"
        "req = urllib.request.Request(os.environ['KLINGSIM_BASE_URL'] + '/api/generate',\n"
        "    data=os.environ['KLINGSIM_REQUEST'].encode(), method='POST',\n"
        "    headers={'Authorization': 'Bearer ' + os.environ['KLINGSIM_API_KEY'],\n"
        "             'Content-Type': 'application/json'})\n"
        "try:\n"
        "    urllib.request.urlopen(req)\n"
        "except Exception:\n"
        "    pass\n"
        "print('done!')\n"
    )
    done = klingsim(
        "--provider",
        "kling3api",
        "--scenario",
        "success",
        "--scenario",
        "insufficient_credits",
        # real-time speed: the job must still be rendering when the program exits, however slowly it starts
        "--speed",
        "1",
        "--timeout",
        "60",
        "--",
        sys.executable,
        str(careless),
    )
    assert done.returncode == 1
    assert "CLIENT-SURFACES-FAILURE: reported success, but no job succeeded (n7" in done.stdout
    assert "CLIENT-SURFACES-FAILURE: reported success, but no job was created" in done.stdout


def test_usage_errors() -> None:
    assert klingsim("--provider", "kling3api").returncode == 2
    unknown = klingsim("--provider", "nope", "--", "true")
    assert unknown.returncode == 2 and "unknown provider" in unknown.stderr
    scenario = klingsim("--provider", "kling3api", "--scenario", "slow", "--", "true")
    # argparse refuses the name and lists every valid scenario
    assert scenario.returncode == 2 and "invalid choice: 'slow'" in scenario.stderr
    assert "'success'" in scenario.stderr and "'expired_output'" in scenario.stderr
    timeout = klingsim("--provider", "kling3api", "--timeout", "0", "--", "true")
    assert timeout.returncode == 2 and "must be above 0" in timeout.stderr


def test_the_kling_example_program_passes_its_suite() -> None:
    kling = klingsim(
        "--provider", "kling", *FAST, "--", sys.executable, "examples/kling_client.py", "--poll-every", "0.2"
    )
    assert kling.returncode == 0, kling.stdout + kling.stderr
    assert kling.stdout.count("  ok   ") == 9 and "  ok   too_many_jobs:" in kling.stdout
    assert "stuck_job" not in kling.stdout  # Kling has no cancel: not part of its suite


def test_the_fal_example_program_passes_its_suite() -> None:
    fal = klingsim(
        "--provider",
        "fal",
        *FAST,
        "--",
        sys.executable,
        "examples/fal_queue_client.py",
        "--poll-every",
        "0.2",
        "--timeout",  # its own deadline, after which it cancels (the stuck job)
        "3",
    )
    assert fal.returncode == 0, fal.stdout + fal.stderr
    assert fal.stdout.count("  ok   ") == 10 and "gave up after 3 s; cancelled" in fal.stdout


def test_help_lists_the_scenarios_of_kling_and_fal() -> None:
    done = klingsim("--help")
    assert done.returncode == 0
    assert "too_many_jobs" in done.stdout and "kling 1303, fal 429" in done.stdout
    assert "stuck_job" in done.stdout and "KLINGSIM_SECRET_KEY" in done.stdout
