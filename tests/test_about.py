"""`GET /` on both apps: which app, its version, and links that lead somewhere."""
from __future__ import annotations

from importlib import metadata
from pathlib import Path

import pytest

from backdrop.read.app import create_app as create_read_app
from backdrop.settings import Settings
from backdrop.web import get_storage
from backdrop.write.app import create_app as create_write_app

REPOSITORY = Path(__file__).resolve().parent.parent


@pytest.fixture(params=["read", "write"])
def served(request, tmp_path):
    settings = Settings.from_env({
        "BACKDROP_ENV": "test", "BACKDROP_DATABASE_URL": f"sqlite:///{tmp_path}/about.db",
        "BACKDROP_AUDIT_LOG": str(tmp_path / "audit.log"), "BACKDROP_BROKER_FOLDER": str(tmp_path / "broker"),
    })
    app = (create_read_app if request.param == "read" else create_write_app)(settings)
    yield request.param, app.test_client()
    get_storage(app).close()


def test_the_root_describes_the_app(served):
    name, client = served
    response = client.get("/")
    assert response.status_code == 200 and response.mimetype == "application/json"
    answer = response.get_json()
    assert answer["app"] == name
    assert answer["version"] == metadata.version("backdrop")
    assert answer["links"]["query_language"] == "docs/query-language.md"


def test_every_path_linked_from_the_root_answers(served):
    _, client = served
    links = client.get("/").get_json()["links"]
    for key in ("status", "ready", "openapi"):
        assert client.get(links[key]).status_code == 200, key


def test_every_page_linked_from_the_root_is_in_the_repository(served):
    _, client = served
    links = client.get("/").get_json()["links"]
    for key in ("query_language", "reference"):
        assert (REPOSITORY / links[key]).is_file(), links[key]


def test_the_readme_links_the_query_language_reference():
    assert "](docs/query-language.md)" in (REPOSITORY / "README.md").read_text(encoding="utf-8")
