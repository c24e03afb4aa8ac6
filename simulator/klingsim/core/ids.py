"""Seeded ids in each provider's format, so a run with the same seed names its jobs the same way."""

from __future__ import annotations

import random
import re
import string

_TOKEN = re.compile(r"\{(hex|alnum|digits):(\d+)\}|\{unix\}")
_ALPHABETS = {
    "hex": "0123456789abcdef",
    "alnum": string.ascii_lowercase + string.digits,
    "digits": string.digits,
}

# A template compiled once: literal text (str), `{unix}` (None) or a random run (alphabet, length).
_Part = str | None | tuple[str, int]


def _compile(template: str) -> tuple[_Part, ...]:
    parts: list[_Part] = []
    end = 0
    for match in _TOKEN.finditer(template):
        if match.start() > end:
            parts.append(template[end : match.start()])
        if match.group(0) == "{unix}":
            parts.append(None)
        else:
            parts.append((_ALPHABETS[match.group(1)], int(match.group(2))))
        end = match.end()
    if end < len(template):
        parts.append(template[end:])
    return tuple(parts)


UUID4 = "{hex:8}-{hex:4}-4{hex:3}-a{hex:3}-{hex:12}"


class IdGenerator:
    def __init__(self, seed: int = 0, stream: str = "ids") -> None:
        # `stream` separates sequences: answer ids (Kling's request_id) never shift the job ids of a seed.
        self._rng = random.Random(f"{stream}:{seed}")
        self._templates: dict[str, tuple[_Part, ...]] = {}

    def make(self, template: str, now: float) -> str:
        """Fill `{hex:N}`, `{alnum:N}`, `{digits:N}` and `{unix}` in a template."""
        parts = self._templates.get(template)
        if parts is None:
            parts = self._templates[template] = _compile(template)
        bits = self._rng.getrandbits
        out: list[str] = []
        for part in parts:
            if part is None:
                out.append(str(int(now)))
            elif isinstance(part, str):
                out.append(part)
            else:
                # The draws of `random.choice`, one per character (same sequence for the same seed), without
                # its per-call overhead: `getrandbits(k)` retried until it falls inside the alphabet.
                alphabet, length = part
                size = len(alphabet)
                k = size.bit_length()
                for _ in range(length):
                    r = bits(k)
                    while r >= size:
                        r = bits(k)
                    out.append(alphabet[r])
        return "".join(out)
