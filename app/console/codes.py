from fastapi import APIRouter

from app.console.routing import ConsoleRoute

router = APIRouter(prefix="/codes", route_class=ConsoleRoute)
