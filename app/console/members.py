from fastapi import APIRouter

from app.console.routing import ConsoleRoute

router = APIRouter(prefix="/members", route_class=ConsoleRoute)
