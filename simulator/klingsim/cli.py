"""Command line: klingsim serve | providers | openapi ID | inferred."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence


def _serve(args: argparse.Namespace) -> int:
    from klingsim.server.run import ServeOptions, serve

    return serve(
        ServeOptions(
            host=args.host,
            port=args.port,
            provider=args.provider,
            clock=args.clock,
            speed=args.speed,
            seed=args.seed,
            strict_keys=args.strict_keys,
        )
    )


def _packed(items: Sequence[str], width: int = 96) -> list[str]:
    """Comma-separated items on lines of at most `width` characters, never breaking an item."""
    lines: list[str] = []
    for item in items:
        if lines and len(lines[-1]) + 2 + len(item) <= width:
            lines[-1] += ", " + item
        else:
            lines.append(item)
    return [line + ("," if i < len(lines) - 1 else "") for i, line in enumerate(lines)]


def _providers(_: argparse.Namespace) -> int:
    """Each provider: where it is mounted, its routes, models and the pages it is built from."""
    from klingsim.providers import ALL

    for spec in ALL:
        mount = f"/{spec.id}"
        print(f"{spec.id}: {spec.title}")
        rows = [("mount", [f"{mount}  (real API: {spec.base_url}; OpenAPI: {mount}/openapi.json)"])]
        rows.append(("routes", _packed([f"{e.method} {mount}{e.path}" for e in spec.endpoints])))
        rows.append(("models", _packed(list(spec.models))))
        rows.append(("sources", [doc.cite() for doc in spec.docs]))
        for name, lines in rows:
            for i, line in enumerate(lines):
                print(f"  {name if i == 0 else '':<9}{line}")
        print()
    return 0


def _openapi(args: argparse.Namespace) -> int:
    from klingsim.core.openapi import openapi_document
    from klingsim.providers import by_id

    try:
        spec = by_id(args.provider)
    except KeyError as exc:
        print(exc.args[0], file=sys.stderr)
        return 2
    print(json.dumps(openapi_document(spec), indent=2, ensure_ascii=False))
    return 0


def _inferred(args: argparse.Namespace) -> int:
    from pathlib import Path

    from klingsim.inferred import render_inferred

    text = render_inferred()
    if args.check:
        current = Path(args.check).read_text(encoding="utf-8") if Path(args.check).exists() else ""
        if current != text:
            print(f"{args.check} is out of date; run `make docs`", file=sys.stderr)
            return 1
        return 0
    sys.stdout.write(text)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="klingsim", description="Simulator of the Kling O3 / 3.0 video APIs"
    )
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the simulator as an HTTP server")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument(
        "--provider", help="also serve this provider at / (a real SDK needs only a base-URL change)"
    )
    serve.add_argument("--clock", choices=("real", "virtual"), default="real")
    serve.add_argument(
        "--speed", type=float, default=1.0, help="real clock speed factor (60: a minute a second)"
    )
    serve.add_argument("--seed", type=int, default=0)
    serve.add_argument(
        "--strict-keys", action="store_true", help="accept only keys created on the control plane"
    )
    serve.set_defaults(func=_serve)

    providers = sub.add_parser("providers", help="list providers, mount paths, models and doc sources")
    providers.set_defaults(func=_providers)

    openapi = sub.add_parser("openapi", help="print a provider's OpenAPI document")
    openapi.add_argument("provider")
    openapi.set_defaults(func=_openapi)

    inferred = sub.add_parser("inferred", help="print the page of inferred behaviours (docs/inferred.md)")
    inferred.add_argument("--check", metavar="FILE", help="exit 1 if FILE differs from what would be printed")
    inferred.set_defaults(func=_inferred)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    result: int = args.func(args)
    return result


if __name__ == "__main__":
    raise SystemExit(main())
