"""Client reports stay short and honest: repeated findings fold, a hung program is named with what it was
doing, and a scenario's time limit follows its simulated duration."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from klingsim.providers import by_id
from klingsim_contracts.client.checks import Finding, fold
from klingsim_contracts.client.report import ClientReport, ScenarioResult
from klingsim_contracts.client.runner import MIN_TIMEOUT, scenario_timeout
from klingsim_contracts.client.scenarios import by_name

ROOT = Path(__file__).resolve().parents[2]


def test_repeated_findings_fold_with_their_first_and_last_occurrence() -> None:
    same = [
        Finding("CLIENT-REQUEST-ACCEPTED", "sent POST /api/generate; refused", first=t, last=t)
        for t in (1, 2, 7)
    ]
    folded = fold([*same, Finding("CLIENT-POLL-RATE", "too fast")])
    assert [f.count for f in folded] == [3, 1]
    assert folded[0].text() == (
        "CLIENT-REQUEST-ACCEPTED: sent POST /api/generate; refused × 3 (first at t=+1.0s, last at t=+7.0s)"
    )
    report = ClientReport(
        "kling3api",
        "bash careless.sh",
        [
            ScenarioResult("success", "d", folded[:1], runs=1),
            ScenarioResult("slow_job", "d", folded[:1], runs=1),
        ],
    )
    text = report.text()
    assert text.count("sent POST /api/generate; refused") == 1, text
    assert "CLIENT-REQUEST-ACCEPTED: the same problem as in success × 3" in text
    assert text.endswith("1 distinct problem(s) (6 occurrence(s))")


def test_the_default_time_limit_is_a_small_multiple_of_the_scenario() -> None:
    spec = by_id("kling3api")
    success, slow = by_name(["success", "slow_job"])
    assert MIN_TIMEOUT <= scenario_timeout(spec, success, 60.0, 1) < 60
    assert scenario_timeout(spec, slow, 60.0, 1) >= 3 * 420 / 60
    assert scenario_timeout(spec, slow, 60.0, 1, factor=6) > scenario_timeout(spec, slow, 60.0, 1)


def test_a_hung_program_is_reported_with_what_it_was_doing(tmp_path: Path) -> None:
    hung = tmp_path / "hung.py"
    hung.write_text(
        "import json, os, sys, time, urllib.request\n"
        "req = urllib.request.Request(os.environ['KLINGSIM_BASE_URL'] + '/api/generate',\n"
        "    data=os.environ['KLINGSIM_REQUEST'].encode(), method='POST',\n"
        "    headers={'Authorization': 'Bearer ' + os.environ['KLINGSIM_API_KEY'],\n"
        "             'Content-Type': 'application/json'})\n"
        "urllib.request.urlopen(req).read()\n"
        "print('waiting for the webhook', file=sys.stderr, flush=True)\n"
        "time.sleep(600)\n"
    )
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "klingsim.cli",
            "check",
            "client",
            "--provider",
            "kling3api",
            "--scenario",
            "success",
            "--timeout",
            "4",
            "--",
            sys.executable,
            str(hung),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        cwd=ROOT,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "CLIENT-TERMINATES: did not finish within 4 s; it had sent 1 request(s)" in done.stdout
    assert "the last, POST /api/generate at t=+" in done.stdout, done.stdout
    assert "its last output: waiting for the webhook" in done.stdout
