"""`klingsim providers` names every provider with its mount path, routes, models and doc sources;
`klingsim inferred` lists every inferred choice."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from klingsim.cli import main
from klingsim.providers import ALL
from klingsim.spec import DocRef


def test_lists_all_four_providers_with_mounts_models_and_sources(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["providers"]) == 0
    out = capsys.readouterr().out
    assert {"kling3api", "empiriolabs", "evolink", "prospolabs"} <= {spec.id for spec in ALL}
    blocks = out.strip().split("\n\n")
    assert [block.split(":", 1)[0] for block in blocks] == [spec.id for spec in ALL]
    for spec, block in zip(ALL, blocks, strict=True):
        assert f"mount    /{spec.id}  (real API: {spec.base_url}" in block
        assert f"/{spec.id}/openapi.json" in block
        for endpoint in spec.endpoints:
            assert f"{endpoint.method} /{spec.id}{endpoint.path}" in block
        for model in spec.models:
            assert model in block.replace(",", " ").split(), model
        sources = [line.removeprefix("  sources").strip() for line in block.splitlines()[-len(spec.docs) :]]
        assert sources == [doc.cite() for doc in spec.docs]


def test_long_lists_wrap_between_items_not_inside_them(capsys: pytest.CaptureFixture[str]) -> None:
    main(["providers"])
    out = capsys.readouterr().out
    kling3api = next(spec for spec in ALL if spec.id == "kling3api")
    model_lines = [line for line in out.splitlines() if "-to-video" in line or "-video-edit" in line]
    assert len(model_lines) > 1  # twelve task types do not fit on one line
    assert all(
        len(line) <= 110 for line in out.splitlines() if "models" in line or line.startswith("           ")
    )
    listed = [m.strip(",") for line in model_lines for m in line.split() if m.strip(",") in kling3api.models]
    assert listed == list(kling3api.models)


def _inferred_reasons(value: object) -> set[str]:
    """Every reason of an `inferred(...)` citation anywhere in a spec (hooks aside)."""
    if isinstance(value, DocRef):
        return {value.reason} if value.inferred else set()
    if isinstance(value, tuple | list):
        return set().union(*(_inferred_reasons(v) for v in value))
    if isinstance(value, dict):
        return set().union(*(_inferred_reasons(v) for v in value.values()))
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return set().union(
            *(
                _inferred_reasons(getattr(value, f.name))
                for f in dataclasses.fields(value)
                if f.name != "hooks"
            )
        )
    return set()


def test_inferred_page_lists_every_inferred_choice_of_every_provider(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["inferred"]) == 0
    page = capsys.readouterr().out
    for spec in ALL:
        assert f"## {spec.title} — `{spec.id}`" in page
        for reason in _inferred_reasons(spec):
            assert f": {reason}" in page, (spec.id, reason)


def test_inferred_check_fails_on_a_stale_page(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    page = tmp_path / "inferred.md"
    main(["inferred"])
    page.write_text(capsys.readouterr().out, encoding="utf-8")
    assert main(["inferred", "--check", str(page)]) == 0
    page.write_text(page.read_text(encoding="utf-8").replace("inferred", "guessed", 1), encoding="utf-8")
    assert main(["inferred", "--check", str(page)]) == 1
