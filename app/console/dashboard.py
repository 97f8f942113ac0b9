"""The dashboard: the programme's figures for a period."""

from fastapi import APIRouter, Request, Response

from app.console.rendering import page
from app.console.routing import ConsoleRoute, CurrentUser

router = APIRouter(prefix="/dashboard", route_class=ConsoleRoute)


@router.get("")
async def dashboard(request: Request, user: CurrentUser) -> Response:
    return await page(request, "dashboard.html", {"section": "dashboard"})
