from fastapi import APIRouter

from app.console.routing import ConsoleRoute

router = APIRouter(prefix="/programme", route_class=ConsoleRoute)
