from __future__ import annotations

from klingsim.core.openapi import openapi_document
from klingsim.providers import ALL
from klingsim.providers.kling3api import SPEC
from tests.support import SimClient

# Each provider's own credential: Bearer keys, the official Kling API's JWTs, fal's `Key <key>` header.
SCHEMES = {
    "kling": ("bearerAuth", {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}),
    "fal": (
        "keyAuth",
        {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "Authorization: Key <key>",
        },
    ),
}


def test_every_provider_document_declares_its_auth_and_every_endpoint() -> None:
    for spec in ALL:
        doc = openapi_document(spec)
        assert doc["openapi"].startswith("3.1")
        name, scheme = SCHEMES.get(spec.id, ("bearerAuth", {"type": "http", "scheme": "bearer"}))
        assert doc["components"]["securitySchemes"][name] == scheme
        for endpoint in spec.endpoints:
            assert endpoint.method.lower() in doc["paths"][endpoint.path.replace(":path}", "}")]


def test_kling3api_document_carries_ranges_enums_and_each_error() -> None:
    doc = openapi_document(SPEC)
    create = doc["paths"]["/api/generate"]["post"]
    schema = create["requestBody"]["content"]["application/json"]["schema"]
    props = schema["properties"]
    assert (props["duration"]["minimum"], props["duration"]["maximum"], props["duration"]["default"]) == (
        3,
        15,
        5,
    )
    assert props["prompt"]["maxLength"] == 2000
    assert len(props["type"]["enum"]) == 12
    assert props["images"]["maxItems"] == 7
    assert "003_1ace3cef13878ba3.txt" in props["duration"]["description"]
    codes = {
        code
        for r in create["responses"].values()
        for code in r.get("content", {}).get("application/json", {}).get("examples", {})
    }
    assert {
        "INVALID_PROMPT",
        "INVALID_DURATION",
        "INVALID_TYPE",
        "MISSING_IMAGE",
        "MISSING_VIDEO",
        "INVALID_API_KEY",
        "INSUFFICIENT_CREDITS",
        "RATE_LIMITED",
        "INTERNAL_ERROR",
    } <= codes
    assert "Retry-After" in create["responses"]["429"]["headers"]
    image_rule = next(
        c for c in schema["allOf"] if "image" in str(c["then"]) and "video" not in str(c["then"])
    )
    assert image_rule["then"] == {"anyOf": [{"required": ["image"]}]}


def test_documents_are_served_with_the_mount_as_server_url() -> None:
    client = SimClient()
    doc = client.get("/kling3api/openapi.json").json()
    assert doc["servers"] == [{"url": "http://testserver/kling3api"}]
    assert "/api/status" in doc["paths"]
