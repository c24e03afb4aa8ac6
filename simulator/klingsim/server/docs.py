"""Swagger UI pages served from the `swagger-ui-bundle-v2` package's own files (Swagger UI 5, which reads
OpenAPI 3.1): they work offline.

`/_klingsim/docs` shows the control plane's OpenAPI, `/<provider>/docs` a provider's. Every URL on the page is
a path on this server; the online validator badge is switched off (`validatorUrl: null`).
"""

from __future__ import annotations

import html
import json
from pathlib import Path

from swagger_ui_bundle import swagger_ui_path  # type: ignore[import-untyped]

ASSETS_PREFIX = "/_klingsim/docs/assets"
ASSETS_DIR = Path(str(swagger_ui_path))


def docs_page(title: str, openapi_url: str) -> str:
    """The HTML of a Swagger UI page showing the OpenAPI document at `openapi_url` (a path)."""
    config = json.dumps(
        {"url": openapi_url, "dom_id": "#swagger-ui", "validatorUrl": None, "deepLinking": True}
    )
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{html.escape(title)}</title>
<link rel="stylesheet" href="{ASSETS_PREFIX}/swagger-ui.css">
<link rel="icon" type="image/png" href="{ASSETS_PREFIX}/favicon-32x32.png">
</head>
<body>
<div id="swagger-ui"></div>
<script src="{ASSETS_PREFIX}/swagger-ui-bundle.js"></script>
<script>window.ui = SwaggerUIBundle({config});</script>
</body>
</html>
"""
