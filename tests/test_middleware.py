"""Request limits and the access log."""

from __future__ import annotations

import json
import logging


def test_oversized_body_is_refused_with_413_and_a_message(demo_client, monkeypatch):
    big = b"x" * (1_048_576 + 1)
    response = demo_client.post("/healthz", content=big, headers={"content-type": "application/json"})
    assert response.status_code == 413
    assert "HYGIENE_MAP_MAX_BODY_BYTES" in response.json()["detail"]
    assert response.json()["detail_zh"] == "请求内容超过 1048576 字节的上限（HYGIENE_MAP_MAX_BODY_BYTES）"


def test_one_structured_log_line_per_request_without_secrets(demo_client, caplog):
    with caplog.at_level(logging.INFO, logger="hygiene_map.access"):
        demo_client.get("/healthz", params={"tk": "tianditu-secret", "lang": "en"},
                        headers={"Authorization": "Bearer super-secret-token"})
    lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == "hygiene_map.access"]
    assert len(lines) == 1
    line = lines[0]
    assert line["method"] == "GET" and line["path"] == "/healthz" and line["status"] == 200
    assert line["duration_ms"] >= 0
    text = json.dumps(line)
    assert "tianditu-secret" not in text and "super-secret-token" not in text
    assert "lang=en" in line["query"]
