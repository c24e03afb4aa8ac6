"""The provider pages every citation points at live in the project (fixtures/seeds/), whole and unchanged."""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from klingsim.providers import ALL
from klingsim.spec import DocRef

ROOT = Path(__file__).resolve().parents[2]
SEEDS = ROOT / "fixtures" / "seeds"
# Where the pages were first kept, beside the project; when a checkout has it, the copies must not drift.
ORIGINAL = ROOT.parent / "shared" / "seeds"


def citations(value: Any, seen: set[int] | None = None) -> Iterator[DocRef]:
    """Every DocRef reachable from a spec (dataclass fields, tuples, mappings)."""
    seen = set() if seen is None else seen
    if id(value) in seen:
        return
    seen.add(id(value))
    if isinstance(value, DocRef):
        yield value
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for f in dataclasses.fields(value):
            yield from citations(getattr(value, f.name), seen)
    elif isinstance(value, list | tuple | set | frozenset):
        for item in value:
            yield from citations(item, seen)
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from citations(key, seen)
            yield from citations(item, seen)


def cited_pages() -> set[str]:
    return {
        ref.source
        for spec in ALL
        for ref in citations(spec)
        if ref.source.endswith(".txt") and "://" not in ref.source  # seed pages, not public URLs
    }


def test_every_page_a_spec_cites_is_in_the_project_and_every_copy_is_cited() -> None:
    copies = {p.name for p in SEEDS.glob("*.txt")}
    assert cited_pages() == copies


def test_the_copies_are_the_pages_as_published() -> None:
    """Each copy has the checksum recorded when it was copied, and equals the original where one is beside."""
    sums = dict(line.split()[::-1] for line in (SEEDS / "SHA256SUMS").read_text().splitlines())
    assert set(sums) == {p.name for p in SEEDS.glob("*.txt")}
    for name, digest in sums.items():
        data = (SEEDS / name).read_bytes()
        assert hashlib.sha256(data).hexdigest() == digest, (
            f"{name} was edited; the pages are quoted, not written"
        )
        original = ORIGINAL / name
        if original.exists():
            assert data == original.read_bytes(), f"{name} differs from {original}"
