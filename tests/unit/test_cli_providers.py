"""`klingsim providers` names every provider with its mount path, routes, models and doc sources."""

from __future__ import annotations

import pytest

from klingsim.cli import main
from klingsim.providers import ALL


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
