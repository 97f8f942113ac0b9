"""The /v1 API: every feature router, mounted in one place."""

from fastapi import APIRouter

from app.api_keys.router import router as api_keys_router

router = APIRouter(prefix="/v1")
router.include_router(api_keys_router)
