"""Route a method and path to one of a provider's operations, as the spec declares them.

Path templates: `{name}` matches one segment, `{name:path}` one or more (fal's model ids hold slashes).
Literal paths are tried before templated ones, and one-segment parameters before multi-segment ones, so
`/fal-ai/kling-video/requests/{id}` wins over `/{model_id:path}`; a path that matches only with another
method answers 405 with every method it accepts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from klingsim.spec import Endpoint, ProviderSpec

_PATH_PARAM = re.compile(r"\\\{(\w+)(?::(path))?\\\}")


@dataclass(frozen=True, slots=True)
class Match:
    endpoint: Endpoint | None
    path_params: dict[str, str]
    allowed: tuple[str, ...]  # methods the path accepts, when it matched but the method did not


def _regex(path: str) -> str:
    def param(found: re.Match[str]) -> str:
        pattern = ".+" if found.group(2) else "[^/]+"
        return f"(?P<{found.group(1)}>{pattern})"

    return "^" + _PATH_PARAM.sub(param, re.escape(path)) + "/?$"


def _specificity(path: str) -> tuple[int, int, int]:
    # Among equals, more literal text wins: fal's `/run/{model_id:path}` before `/{model_id:path}`.
    return path.count(":path}"), path.count("{"), -len(re.sub(r"\{[^}]*\}", "", path))


class Router:
    def __init__(self, spec: ProviderSpec) -> None:
        self._routes: list[tuple[re.Pattern[str], dict[str, Endpoint]]] = []
        by_path: dict[str, dict[str, Endpoint]] = {}
        for endpoint in spec.endpoints:
            by_path.setdefault(endpoint.path, {})[endpoint.method] = endpoint
        for path in sorted(by_path, key=_specificity):  # stable: declaration order among equals
            self._routes.append((re.compile(_regex(path)), by_path[path]))
        # Literal paths (no parameter) sort first, so an exact hit with its method is what the loop finds.
        self._literal: dict[str, dict[str, Endpoint]] = {}
        for path, methods in by_path.items():
            if "{" not in path:
                self._literal.setdefault(path, methods)
                self._literal.setdefault(path + "/", methods)

    def match(self, method: str, path: str) -> Match | None:
        lookup = "GET" if method == "HEAD" else method
        literal = self._literal.get(path)
        if literal is not None and lookup in literal:
            return Match(literal[lookup], {}, ())
        allowed: set[str] = set()
        for regex, methods in self._routes:
            found = regex.match(path)
            if found is None:
                continue
            endpoint = methods.get(lookup)
            if endpoint is not None:
                return Match(endpoint, found.groupdict(), ())
            allowed.update(methods)
        if allowed:
            return Match(None, {}, tuple(sorted(allowed)))
        return None
