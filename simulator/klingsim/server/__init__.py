"""HTTP adapter: the only place FastAPI (and Starlette) are imported."""

from klingsim.server.app import create_app

__all__ = ["create_app"]
