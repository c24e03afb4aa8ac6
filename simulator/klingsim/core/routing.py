"""Route a method and path to one of a provider's endpoints, as the spec declares them."""

from __future__ import annotations

import re
from dataclasses import dataclass

from klingsim.spec import Endpoint, ProviderSpec

_PATH_PARAM = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True, slots=True)
class Match:
    endpoint: Endpoint | None
    path_params: dict[str, str]
    allowed: tuple[str, ...]  # methods the path accepts, when it matched but the method did not


class Router:
    def __init__(self, spec: ProviderSpec) -> None:
        self._routes: list[tuple[re.Pattern[str], dict[str, Endpoint]]] = []
        by_path: dict[str, dict[str, Endpoint]] = {}
        for endpoint in spec.endpoints:
            by_path.setdefault(endpoint.path, {})[endpoint.method] = endpoint
        for path, methods in by_path.items():
            regex = (
                "^"
                + _PATH_PARAM.sub(r"(?P<\1>[^/]+)", re.escape(path).replace(r"\{", "{").replace(r"\}", "}"))
                + "/?$"
            )
            self._routes.append((re.compile(regex), methods))

    def match(self, method: str, path: str) -> Match | None:
        for regex, methods in self._routes:
            found = regex.match(path)
            if found is None:
                continue
            lookup = "GET" if method == "HEAD" else method
            endpoint = methods.get(lookup)
            if endpoint is None:
                return Match(None, {}, tuple(sorted(methods)))
            return Match(endpoint, found.groupdict(), ())
        return None
