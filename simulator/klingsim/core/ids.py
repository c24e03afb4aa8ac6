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


UUID4 = "{hex:8}-{hex:4}-4{hex:3}-a{hex:3}-{hex:12}"


class IdGenerator:
    def __init__(self, seed: int = 0, stream: str = "ids") -> None:
        # `stream` separates sequences: answer ids (Kling's request_id) never shift the job ids of a seed.
        self._rng = random.Random(f"{stream}:{seed}")

    def make(self, template: str, now: float) -> str:
        """Fill `{hex:N}`, `{alnum:N}`, `{digits:N}` and `{unix}` in a template."""

        def fill(match: re.Match[str]) -> str:
            if match.group(0) == "{unix}":
                return str(int(now))
            alphabet = _ALPHABETS[match.group(1)]
            return "".join(self._rng.choice(alphabet) for _ in range(int(match.group(2))))

        return _TOKEN.sub(fill, template)
