"""Without Node.js the TypeScript tests are skipped, except where Node.js is required (CI)."""

import pytest

from tests.clients import support


def test_without_node_the_typescript_tests_are_skipped(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("STAMMKUNDE_REQUIRE_NODE", raising=False)

    with pytest.raises(pytest.skip.Exception, match=r"Node\.js and npm are needed"):
        support.node_tools()


def test_without_node_where_it_is_required_they_fail(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setenv("STAMMKUNDE_REQUIRE_NODE", "1")

    with pytest.raises(pytest.fail.Exception, match="STAMMKUNDE_REQUIRE_NODE=1"):
        support.node_tools()
