"""Nothing personal in the access log, no server detail in an answer (findings F3, F10, F11, F14 of the ops walk).

- The access log keeps a query value only for the routes' own harmless parameters (api/middleware.py
  LOGGED_PARAMS): an Open311 client putting the caller's words, name and e-mail in the query string, or a page
  opened with ``?tel=``, leaves ``***`` there.
- With the database down every caller (JSON, a page, /healthz) is told it cannot be reached now, not where it is
  nor libpq's English; the administrator finds the address and the reason in the server log, password masked.
- A link to /logout opens a page with a 退出登录 button; the login page asks for the token the administrator gave.
- ``serve`` on a busy port says so on one line and exits 2 before uvicorn starts.
"""

from __future__ import annotations

import json
import logging
import socket
from urllib.parse import parse_qsl

import pytest
from fastapi.testclient import TestClient

from tests.test_cli import assert_one_line_error, run

CALLER = {"description": "我是李四電話0977888999住華陰街", "phone": "0977888999", "email": "lisi@example.com",
          "first_name": "四", "last_name": "李", "address_string": "華陰街12號", "device_id": "A1B2-C3D4"}


def _logged(caplog) -> list[dict]:
    return [json.loads(r.getMessage()) for r in caplog.records if r.name == "hygiene_map.access"]


def test_the_access_log_keeps_no_callers_words_name_or_number_from_a_query_string(demo_client, caplog):
    with caplog.at_level(logging.INFO, logger="hygiene_map.access"):
        # An Open311 partner's common mistake: the request's fields in the query string of its POST.
        demo_client.post("/open311/v2/requests.json",
                         params={"api_key": "k-123", "service_code": "暴露垃圾", "lat": "25.061", "long": "121.514",
                                 **CALLER})
        demo_client.get("/cases", params={"tel": "0922333444", "mobile": "0911222333", "contact": "陳大文",
                                          "street": "379901001"}, follow_redirects=False)
        demo_client.get("/api/layers/toilets/features",
                        params={"bbox": "121.3,37.5,121.5,37.6", "limit": "2", "lang": "en", "status": "open"})
    lines = _logged(caplog)
    assert [line["path"] for line in lines] == ["/open311/v2/requests.json", "/cases", "/api/layers/toilets/features"]
    text = json.dumps(lines, ensure_ascii=False)
    for secret in [*CALLER.values(), "0922333444", "0911222333", "陳大文", "k-123", "25.061", "121.514"]:
        assert secret not in text, (secret, text)
    open311, cases, features = (dict(parse_qsl(line["query"])) for line in lines)
    assert {name: open311[name] for name in CALLER} == dict.fromkeys(CALLER, "***")
    assert open311["service_code"] == "暴露垃圾"  # what was asked for is still there to read
    assert cases == {"tel": "***", "mobile": "***", "contact": "***", "street": "379901001"}
    assert features == {"bbox": "121.3,37.5,121.5,37.6", "limit": "2", "lang": "en", "status": "open"}


@pytest.fixture
def database_down(monkeypatch):
    """A client of the app whose database (user hm_operator, database hm_citydb, a password) does not answer."""
    from api.app import create_app

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    monkeypatch.setenv("DATABASE_URL", f"postgresql://hm_operator:pw-s3cret@127.0.0.1:{port}/hm_citydb")
    monkeypatch.setenv("HYGIENE_MAP_DB_CONNECT_TIMEOUT_S", "1")
    with TestClient(create_app(), raise_server_exceptions=False) as client:
        yield client, port


def test_with_the_database_down_callers_are_told_to_wait_and_the_log_says_where(database_down, caplog):
    client, port = database_down
    page = {"Accept": "text/html"}
    with caplog.at_level(logging.INFO):
        answers = {"json": client.get("/api/layers"),
                   "write": client.post("/api/complaints", json={"lon": 121.5, "lat": 25.06, "category": "暴露垃圾"}),
                   "page": client.get("/map/grids", params={"street": "6300600"}, headers=page),
                   "page_en": client.get("/map/grids", params={"street": "6300600", "lang": "en"}, headers=page),
                   "healthz": client.get("/healthz")}
    for name, answer in answers.items():
        assert answer.status_code == 503 and answer.headers["retry-after"] == "5", (name, answer.text)
        for detail in ("127.0.0.1", str(port), "hm_operator", "hm_citydb", "pw-s3cret", "Connection refused",
                       "connection to server", "postgresql://"):
            assert detail not in answer.text, (name, detail, answer.text)
    for name in ("json", "write"):
        assert answers[name].json()["detail_zh"] == "数据库暂时无法连接，请稍后再试", answers[name].text
        assert "try again" in answers[name].json()["detail"]
    assert "数据库暂时无法连接，请稍后再试" in answers["page"].text
    assert "try again" in answers["page_en"].text and "数据库" not in answers["page_en"].text
    assert "cannot connect to the database" in answers["healthz"].json()["detail"]  # a monitor still reads why
    logged = "\n".join(r.getMessage() for r in caplog.records if r.name != "hygiene_map.access")
    assert f"127.0.0.1:{port}/hm_citydb" in logged and "refused" in logged, logged  # where, for the administrator
    assert "pw-s3cret" not in logged


def test_a_link_to_logout_opens_a_page_with_a_logout_button(demo_client):
    page = demo_client.get("/logout")
    assert page.status_code == 200, page.text
    assert '<form method="post" action="/logout">' in page.text and ">退出登录</button>" in page.text
    assert 'lang="zh-CN"' in page.text
    english = demo_client.get("/logout?lang=en")
    assert english.status_code == 200 and ">Log out</button>" in english.text
    # The button's POST ends the session and goes back to the login form.
    done = demo_client.post("/logout", follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "/login"


def test_the_login_page_asks_for_the_token_the_administrator_gave():
    from api.routes.session import _form_page

    zh = _form_page("zh", "/cases")
    assert "管理员发给您的令牌" in zh and "users add" not in zh and "hygiene-map" not in zh.split("<body>")[1]


def test_serve_on_a_busy_port_says_so_on_one_line_before_starting():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run(["serve", "--host", "127.0.0.1", "--port", str(port)],
                     {"DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none", "HYGIENE_MAP_DB_CONNECT_TIMEOUT_S": "1"})
    assert result.returncode == 2, result.stderr
    assert_one_line_error(result, f"hygiene-map：错误：--port：端口 {port} 已被占用")
    assert "Application startup" not in result.stderr + result.stdout
