from __future__ import annotations

import re

from klingsim.core.ids import IdGenerator
from klingsim.core.signing import OutputRef, UrlSigner


def test_ids_follow_templates_and_are_seeded() -> None:
    a, b, c = IdGenerator(1), IdGenerator(1), IdGenerator(2)
    template = "task-unified-{unix}-{alnum:8}"
    first = a.make(template, 1757169743.9)
    assert re.fullmatch(r"task-unified-1757169743-[a-z0-9]{8}", first)
    assert first == b.make(template, 1757169743.9)
    assert first != c.make(template, 1757169743.9)
    assert re.fullmatch(r"n75[0-9a-f]{12}", a.make("n75{hex:12}", 0))
    assert re.fullmatch(r"gen_[0-9]{6}", a.make("gen_{digits:6}", 0))


def test_signatures_cover_every_part_of_the_reference() -> None:
    signer = UrlSigner(b"k")
    ref = OutputRef("p", "job", 0, 1000)
    path = signer.path(ref)
    signature = path.rsplit("signature=", 1)[1]
    assert signer.verify(ref, signature)
    for other in (
        OutputRef("q", "job", 0, 1000),
        OutputRef("p", "jab", 0, 1000),
        OutputRef("p", "job", 1, 1000),
        OutputRef("p", "job", 0, 1001),
    ):
        assert not signer.verify(other, signature)
    assert not UrlSigner(b"other").verify(ref, signature)
