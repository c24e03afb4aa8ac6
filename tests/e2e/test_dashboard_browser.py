"""The dashboard in a real browser: Debian's headless Chromium driven by Playwright (no downloaded browser).

Runs wherever Chromium is installed; .ci/run installs it and sets KLINGSIM_REQUIRE_BROWSER, so in CI a missing
browser fails here instead of skipping. Elsewhere the module is skipped with the install command. The server
runs in a thread on a loopback port, on a virtual clock.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from klingsim.server.run import ServeOptions, ThreadedServer, build

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
if not Path(CHROMIUM).exists():
    if os.environ.get("KLINGSIM_REQUIRE_BROWSER"):
        pytest.fail("KLINGSIM_REQUIRE_BROWSER is set but Chromium is missing: apt-get install -y chromium")
    pytest.skip("needs Chromium: apt-get install -y chromium", allow_module_level=True)

from playwright.sync_api import Browser, Page, expect, sync_playwright  # noqa: E402

ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
K3A = {"Authorization": "Bearer k3a_live_0123456789abcdef"}
T2V = {"type": "std-text-to-video", "prompt": "A cinematic shot of mountains at sunrise"}
# `make screenshots` sets this to docs/screenshots; otherwise screenshots go to a temporary folder.
SHOTS_ENV = "KLINGSIM_SCREENSHOTS"
Shoot = Callable[..., None]  # (page, name[, CSS selector of the element to picture])


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield launched
        launched.close()


@pytest.fixture
def server() -> Iterator[str]:
    # Loopback callbacks allowed: the callback test sends EvoLink's callback to this server itself.
    with ThreadedServer(build(ServeOptions(clock="virtual", allow_http_callbacks=True))) as running:
        yield running.url


@pytest.fixture
def page(browser: Browser, server: str) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 760})
    opened = context.new_page()
    opened.set_default_timeout(10_000)
    # Only this server: a request to any other host fails the test.
    others: list[str] = []
    opened.on(
        "request",
        lambda r: others.append(r.url) if urlsplit(r.url).netloc != urlsplit(server).netloc else None,
    )
    yield opened
    context.close()
    assert others == []


@pytest.fixture
def shoot(tmp_path: Path) -> Shoot:
    folder = Path(os.environ.get(SHOTS_ENV) or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)

    def take(page: Page, name: str, element: str = "") -> None:
        path = folder / f"{name}.png"
        if element:
            page.locator(element).screenshot(path=str(path))
        else:
            page.screenshot(path=str(path))
        assert path.stat().st_size > 1000

    return take


def _open(page: Page, server: str) -> None:
    page.goto(f"{server}/_klingsim/ui/")
    expect(page.locator("body[data-ready=true]")).to_have_count(1)


def test_a_job_created_by_curl_appears_and_finishes_after_advance(
    page: Page, server: str, shoot: Shoot
) -> None:
    _open(page, server)
    task = httpx.post(f"{server}/kling3api/api/generate", headers=K3A, json=T2V).json()["data"]["task_id"]
    row = page.locator(f'#jobs tr[data-job="{task}"]')
    expect(row.locator(".status")).to_have_text("IN_PROGRESS")
    row.click()
    expect(page.locator("#job-timeline li").first).to_contain_text("IN_PROGRESS")
    page.fill("#advance-seconds", "600")
    page.click("#advance-btn")
    expect(row.locator(".status")).to_have_text("SUCCESS")
    expect(page.locator("#job-outputs video")).to_have_count(1)
    expect(page.locator("#job-ledger tr")).to_have_count(1)
    expect(page.locator("#clock-now")).to_have_text("2026-01-01 00:10:00")
    shoot(page, "dashboard-jobs")


def test_a_fault_added_in_the_ui_fails_the_next_request(page: Page, server: str, shoot: Shoot) -> None:
    _open(page, server)
    page.click("nav button[data-tab=faults]")
    page.select_option("#fault-provider", "kling3api")
    page.select_option("#fault-endpoint", "create")
    page.fill("#fault-error", "RATE_LIMITED")
    page.click("#fault-add")
    expect(page.locator("#faults tr[data-fault]")).to_have_count(1)
    shoot(page, "dashboard-faults")
    refused = httpx.post(f"{server}/kling3api/api/generate", headers=K3A, json=T2V)
    assert refused.status_code == 429 and refused.json()["error"] == "RATE_LIMITED"
    assert httpx.post(f"{server}/kling3api/api/generate", headers=K3A, json=T2V).status_code == 200
    expect(page.locator("#faults tr[data-fault]")).to_have_count(0)
    page.click("nav button[data-tab=journal]")
    expect(page.locator("#journal tbody tr")).to_have_count(2)
    expect(page.locator("#journal tbody tr.bad")).to_contain_text("429")


def test_forced_failure_balance_and_journal_hints(page: Page, server: str, shoot: Shoot) -> None:
    _open(page, server)
    body = {**T2V, "duraton": 10}
    task = httpx.post(f"{server}/kling3api/api/generate", headers=K3A, json=body).json()["data"]["task_id"]
    page.locator(f'#jobs tr[data-job="{task}"]').click()
    page.fill("#outcome-error", "CONTENT_POLICY")
    page.click("#outcome-failed")
    expect(page.locator(f'#jobs tr[data-job="{task}"] .status')).to_have_text("FAILED")
    expect(page.locator("#job-timeline")).to_contain_text("CONTENT_POLICY")
    page.click("nav button[data-tab=accounts]")
    page.select_option("#balance-provider", "evolink")
    page.fill("#balance-key", "sk-evo-dashboard01")
    page.fill("#balance-amount", "42")
    page.click("#balance-set")
    account = page.locator('#accounts details[data-key="sk-evo-dashboard01"]')
    expect(account.locator(".balance")).to_have_text("42 credits")
    page.locator('#accounts details[data-key="k3a_live_0123456789abcdef"] summary').click()
    shoot(page, "dashboard-accounts")
    page.click("nav button[data-tab=journal]")
    expect(page.locator("#journal td.hint").first).to_contain_text('did you mean "duration"')
    shoot(page, "dashboard-journal")


def test_callbacks_and_their_attempts_are_shown(page: Page, server: str, shoot: Shoot) -> None:
    _open(page, server)
    # The receiver answers 405 (the health check takes GET only), so the attempt is shown failing.
    body = {
        "model": "kling-o3-text-to-video",
        "prompt": "a fox",
        "callback_url": f"{server}/_klingsim/health",
    }
    evo = {"Authorization": "Bearer sk-evo-0123456789abcdef"}
    task = httpx.post(f"{server}/evolink/v1/videos/generations", headers=evo, json=body).json()["id"]
    page.locator(f'#jobs tr[data-job="{task}"]').click()
    expect(page.locator("#job-callbacks")).to_contain_text("No callback")
    page.click("[data-advance='600']")
    expect(page.locator("#job-callbacks .callback")).to_contain_text("attempt 1")
    expect(page.locator("#job-callbacks .callback")).to_contain_text("HTTP 405")
    shoot(page, "dashboard-job", "#job-detail")


@pytest.mark.parametrize(
    ("path", "title"), [("/evolink/docs", "EvoLink"), ("/_klingsim/docs", "control plane")]
)
def test_the_docs_pages_render_offline(page: Page, server: str, path: str, title: str) -> None:
    page.goto(f"{server}{path}")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text(title)
    expect(page.locator(".opblock-summary-path").first).to_be_visible()
