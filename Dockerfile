# Production image: PostgreSQL via STAMMKUNDE_DATABASE_URL, secret via STAMMKUNDE_SECRET_KEY.
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    STAMMKUNDE_ENVIRONMENT=production \
    STAMMKUNDE_HOST=0.0.0.0 \
    STAMMKUNDE_PORT=8000 \
    STAMMKUNDE_WORKERS=2 \
    STAMMKUNDE_MIGRATIONS_DIR=/srv/stammkunde/migrations

RUN useradd --system --uid 10001 --user-group --home-dir /srv/stammkunde stammkunde
WORKDIR /srv/stammkunde

COPY pyproject.toml README.md alembic.ini ./
COPY app ./app
COPY migrations ./migrations
RUN pip install . && chown -R stammkunde:stammkunde /srv/stammkunde

USER stammkunde
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=3s --start-period=30s --retries=3 \
    CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2)"

# Migrates, then serves with STAMMKUNDE_WORKERS uvicorn workers.
CMD ["stammkunde", "serve"]
