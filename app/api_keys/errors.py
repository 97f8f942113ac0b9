from app.kit.errors import NotFound


class ApiKeyNotFound(NotFound):
    code = "api_key_not_found"
    title = "API key not found"
