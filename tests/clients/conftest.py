from pathlib import Path

import pytest

from tests.clients.support import node_tools, prepare_typescript_project


@pytest.fixture(scope="session")
def node_bin() -> Path:
    """``node_modules/.bin`` of the TypeScript project, installed, generated and type-checked."""
    _node, npm = node_tools()
    return prepare_typescript_project(npm)
