from fastapi import APIRouter

from app.console.routing import ConsoleRoute

router = APIRouter(prefix="/webhooks", route_class=ConsoleRoute)
