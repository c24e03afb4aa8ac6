"""The pytest plugin as users run it: pytester in a subprocess, the plugin loaded by its entry point."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestDeprecationWarning")

CREATE = {"type": "std-text-to-video", "prompt": "A fox in the snow", "duration": 5, "sound": False}


def run(pytester: pytest.Pytester, source: str, *args: str) -> pytest.RunResult:
    pytester.makepyfile(test_user=source)
    return pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q", *args)


def test_routes_httpx_sync_async_and_requests_to_the_simulator(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        f"""
        import asyncio
        import httpx, requests

        KEY = {{"Authorization": "Bearer k3a_live_0123456789abcdef"}}
        BODY = {CREATE!r}

        def test_sync_httpx(klingsim):
            created = httpx.post("https://kling3api.com/api/generate", json=BODY, headers=KEY)
            assert created.status_code == 200, created.text
            task = created.json()["data"]["task_id"]
            klingsim.advance(3600)
            status = httpx.get("https://kling3api.com/api/status", params={{"task_id": task}}, headers=KEY)
            data = status.json()["data"]
            assert data["status"] == "SUCCESS"
            video = httpx.get(data["response"][0])  # the output URL is on the provider's host, also routed
            assert video.status_code == 200 and video.content[4:8] == b"ftyp"
            assert [e["path"] for e in klingsim.requests][:2] == ["/api/generate", "/api/status"]

        def test_async_httpx(klingsim):
            async def go():
                async with httpx.AsyncClient(base_url="https://kling3api.com", headers=KEY) as client:
                    return await client.post("/api/generate", json=BODY)
            created = asyncio.run(go())
            assert created.status_code == 200 and created.json()["data"]["status"] == "IN_PROGRESS"

        def test_requests(klingsim):
            created = requests.post("https://kling3api.com/api/generate", json=BODY, headers=KEY)
            assert created.status_code == 200
            assert created.json()["data"]["consumed_credits"] == 200
            assert klingsim.balance("kling3api", "k3a_live_0123456789abcdef") == 10000 - 200

        def test_every_provider_host_is_routed(klingsim):
            for provider in ("kling3api", "empiriolabs", "evolink", "prospolabs"):
                answer = httpx.get(klingsim.base_url(provider) + "/no/such/route")
                assert answer.status_code in (401, 404), (provider, answer.text)
                assert "detail" not in answer.json()  # the provider's envelope, never a framework default
            assert {{e["provider"] for e in klingsim.requests}} == {{
                "kling3api", "empiriolabs", "evolink", "prospolabs"
            }}
        """,
    )
    result.assert_outcomes(passed=4)


def test_marker_sets_balance_and_faults(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        f"""
        import httpx, pytest

        KEY = {{"Authorization": "Bearer k3a_live_0123456789abcdef"}}

        @pytest.mark.klingsim(provider="kling3api", balance=0)
        def test_empty_account(klingsim):
            answer = httpx.post("https://kling3api.com/api/generate", json={CREATE!r}, headers=KEY)
            assert answer.status_code == 402
            assert answer.json()["error"] == "INSUFFICIENT_CREDITS"

        FAULT = {{"endpoint": "create", "error": "RATE_LIMITED", "count": 1}}

        @pytest.mark.klingsim(provider="kling3api", faults=[FAULT])
        def test_fault_from_marker(klingsim):
            first = httpx.post("https://kling3api.com/api/generate", json={CREATE!r}, headers=KEY)
            assert first.status_code == 429 and first.headers["retry-after"] == "60"
            second = httpx.post("https://kling3api.com/api/generate", json={CREATE!r}, headers=KEY)
            assert second.status_code == 200

        def test_fail_next_and_reset(klingsim):
            klingsim.fail_next("kling3api", "INTERNAL_ERROR", endpoint="create", count=2)
            url = "https://kling3api.com/api/generate"
            codes = [httpx.post(url, json={CREATE!r}, headers=KEY).status_code for _ in range(3)]
            assert codes == [500, 500, 200]
            klingsim.reset()
            assert klingsim.requests == []

        def test_fail_next_refuses_unknown_codes(klingsim):
            with pytest.raises(KeyError, match="NO_SUCH_CODE"):
                klingsim.fail_next("kling3api", "NO_SUCH_CODE")

        @pytest.mark.klingsim("kling3api")
        def test_positional_marker_argument(klingsim):
            pass

        @pytest.mark.klingsim(providers="kling3api")
        def test_unknown_marker_option(klingsim):
            pass
        """,
    )
    result.assert_outcomes(passed=4, errors=2)
    result.stdout.fnmatch_lines(
        [
            "*keyword-only options (provider, balance, faults); got positional*",
            "*unknown option(s)*providers*",
        ]
    )


def test_marker_is_registered_for_strict_markers(pytester: pytest.Pytester) -> None:
    result = run(pytester, "def test_x():\n    pass\n", "--strict-markers", "--markers")
    result.stdout.fnmatch_lines(["@pytest.mark.klingsim(*, provider=None, balance=None, faults=()):*"])


def test_teardown_fails_on_unknown_hosts_and_ledger_inconsistency(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
        import httpx, pytest, requests

        def test_unknown_host(klingsim):
            with pytest.raises(httpx.ConnectError):
                httpx.get("https://api.example.org/v1/anything")
            with pytest.raises(requests.ConnectionError):
                requests.get("https://other.example.net/")

        def test_ledger(klingsim):
            klingsim.sim.ledger.inconsistencies = lambda: ["kling3api/acct: balance 5 != sum of entries 3"]

        def test_clean(klingsim):
            httpx.get("https://kling3api.com/api/status?task_id=n75000000000000")
        """,
    )
    result.assert_outcomes(passed=3, errors=2)
    result.stdout.fnmatch_lines(
        [
            "*request to a host that is no provider's: GET https://api.example.org/v1/anything*",
            "*request to a host that is no provider's: GET https://other.example.net/*",
            "*ledger inconsistency: kling3api/acct: balance 5 != sum of entries 3*",
        ]
    )


def test_routing_ends_with_the_fixture(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
        import httpx, pytest, requests

        def test_inside(klingsim):
            assert httpx.get("https://kling3api.com/api/status").status_code in (400, 401)

        def test_after():
            import respx, requests.adapters
            assert not respx.mock.routes  # nothing of ours is left patched
            assert requests.adapters.HTTPAdapter.send.__module__ == "requests.adapters"
        """,
    )
    result.assert_outcomes(passed=2)


def test_threaded_server_fixture(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        f"""
        import httpx

        def test_loopback(klingsim_server):
            assert klingsim_server.url.startswith("http://127.0.0.1:")
            answer = httpx.post(klingsim_server.url + "/kling3api/api/generate", json={CREATE!r},
                                headers={{"Authorization": "Bearer k3a_live_0123456789abcdef"}})
            assert answer.status_code == 200

        def test_loopback_passes_through_the_router(klingsim, klingsim_server):
            assert httpx.get(klingsim_server.url + "/_klingsim/health").json() == {{"status": "ok"}}
            assert klingsim.unknown_hosts == []
        """,
    )
    result.assert_outcomes(passed=2)


def test_virtual_sleep_advances_the_clock(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
        import asyncio, time

        def test_sleep(klingsim):
            before = klingsim.sim.clock.now()
            started = time.monotonic()
            with klingsim.virtual_sleep():
                time.sleep(600)
                asyncio.run(asyncio.sleep(60))
            assert klingsim.sim.clock.now() == before + 660
            assert time.monotonic() - started < 5
        """,
    )
    result.assert_outcomes(passed=1)


GIVEN_TEST = """
from hypothesis import given, settings, strategies as st

@settings(database=None, derandomize=True)
@given(number=st.integers(min_value=0))
def test_numbers(number):
    assert number < 3
"""


def test_hypothesis_output_stays_readable_with_schemathesis(pytester: pytest.Pytester) -> None:
    # Importing schemathesis' Hypothesis layer applies its no-op printer, as a schemathesis test would.
    pytester.makeconftest("import schemathesis.generation.hypothesis as h\nh.setup()\n")
    pytester.makepyfile(test_given=GIVEN_TEST)
    readable = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q")
    readable.assert_outcomes(failed=1)
    readable.stdout.fnmatch_lines(["*number=3,*"])
    # The control: without our plugin, schemathesis blanks the example (toolchain.md item 1).
    blank = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q", "-p", "no:klingsim")
    blank.assert_outcomes(failed=1)
    assert "number=3" not in blank.stdout.str()


def test_gateway_options_register_the_gateway_plugin(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(
        """
        import sys, types

        class GatewayPlugin:
            def __init__(self, target, provider, api_key, upstream_control, budget=None, yes_spend=False):
                self.args = (target, provider, api_key, upstream_control, budget, yes_spend)

        fake = types.ModuleType("klingsim_contracts.pytest_gateway")
        fake.GatewayPlugin = GatewayPlugin
        sys.modules["klingsim_contracts.pytest_gateway"] = fake
        """
    )
    result = run(
        pytester,
        """
        def test_registered(pytestconfig):
            plugin = pytestconfig.pluginmanager.get_plugin("klingsim-gateway")
            assert plugin.args == ("http://gw.test", "evolink", "sk-1", "http://127.0.0.1:9", "12.5", True)
        """,
        "--klingsim-target=http://gw.test",
        "--klingsim-provider=evolink",
        "--klingsim-api-key=sk-1",
        "--klingsim-upstream-control=http://127.0.0.1:9",
        "--klingsim-budget=12.5",
        "--klingsim-yes-spend",
    )
    result.assert_outcomes(passed=1)


def test_gateway_option_without_the_gateway_kit_is_a_clear_error(pytester: pytest.Pytester) -> None:
    pytester.makeconftest('import sys\nsys.modules["klingsim_contracts.pytest_gateway"] = None\n')
    no_provider = run(pytester, "def test_x():\n    pass\n", "--klingsim-target=http://gw.test")
    assert no_provider.ret == pytest.ExitCode.USAGE_ERROR
    no_provider.stderr.fnmatch_lines(["*--klingsim-target needs --klingsim-provider*"])
    result = run(
        pytester,
        "def test_x():\n    pass\n",
        "--klingsim-target=http://gw.test",
        "--klingsim-provider=evolink",
    )
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--klingsim-target runs the gateway contract kit*"])
    quiet = run(pytester, "def test_x():\n    pass\n")
    quiet.assert_outcomes(passed=1)  # without the option nothing is imported or required


def test_the_server_fixture_has_the_same_handle(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        f"""
        import httpx, pytest

        KEY = "k3a_live_0123456789abcdef"
        HEADERS = {{"Authorization": "Bearer " + KEY}}

        def test_handle(klingsim_server):
            base = klingsim_server.url + "/kling3api"
            klingsim_server.set_balance("kling3api", KEY, 1000)
            created = httpx.post(base + "/api/generate", json={CREATE!r}, headers=HEADERS)
            task = created.json()["data"]["task_id"]
            klingsim_server.advance(3600)  # a subprocess polling this server sees the job finish
            status = httpx.get(base + "/api/status", params={{"task_id": task}}, headers=HEADERS).json()
            assert status["data"]["status"] == "SUCCESS"
            assert klingsim_server.balance("kling3api", KEY) == 800
            assert [e["path"] for e in klingsim_server.requests][:2] == ["/api/generate", "/api/status"]
            klingsim_server.fail_next("kling3api", "RATE_LIMITED", endpoint="create")
            assert httpx.post(base + "/api/generate", json={CREATE!r}, headers=HEADERS).status_code == 429
            klingsim_server.reset()
            assert klingsim_server.requests == []

        def test_unknown_values_are_listed(klingsim):
            with pytest.raises(KeyError, match="unknown error 'rate_limited' for kling3api; valid: .*RATE_"):
                klingsim.fail_next("kling3api", "rate_limited")
            with pytest.raises(KeyError, match="unknown provider 'nope'; valid: kling3api, "):
                klingsim.set_balance("nope", KEY, 1)
            fault = klingsim.add_fault(
                provider="kling3api", endpoint="status", error="INTERNAL_ERROR", count=2
            )
            assert fault.startswith("fault_")
            with pytest.raises(ValueError, match="endpoint must be one of create, status, download"):
                klingsim.add_fault(provider="kling3api", endpoint="poll", error="INTERNAL_ERROR")
        """,
    )
    result.assert_outcomes(passed=2)


def test_a_real_clock_server_runs_by_itself(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
        import pytest

        def test_real(klingsim_server):
            assert klingsim_server.sim.clock.mode == "real"
            with pytest.raises(RuntimeError, match="real clock"):
                klingsim_server.advance(1)
        """,
        "--klingsim-server-clock",
        "real",
        "--klingsim-server-speed",
        "60",
    )
    result.assert_outcomes(passed=1)


def test_waiting_on_real_time_under_a_virtual_clock_names_virtual_sleep(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        f"""
        import time, httpx

        HEADERS = {{"Authorization": "Bearer k3a_live_0123456789abcdef"}}

        def test_polls_for_real(klingsim):
            created = httpx.post("https://kling3api.com/api/generate", json={CREATE!r}, headers=HEADERS)
            task = created.json()["data"]["task_id"]
            for _ in range(4):
                time.sleep(0.01)
                status = httpx.get(
                    "https://kling3api.com/api/status", params={{"task_id": task}}, headers=HEADERS
                )
            assert status.json()["data"]["status"] == "SUCCESS", "timed out"
        """,
    )
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*klingsim: the client waited on real time*", "*klingsim.virtual_sleep()*"])
    assert "answered 4 times at one virtual instant" in result.stdout.str()
