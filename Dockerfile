# Production image: PostgreSQL through STAMMKUNDE_DATABASE_URL, the secret through
# STAMMKUNDE_SECRET_KEY. tests/ops/test_image_entry.py runs its CMD with its ENV outside a
# container, so keep both in the plain forms that test reads (ENV KEY=VALUE, CMD [...]).

# Build stage: compilers for any dependency without a wheel for the platform; only the
# virtual environment leaves this stage.
FROM python:3.12-slim AS build

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN apt-get update \
    && apt-get install --yes --no-install-recommends build-essential \
    && rm -rf /var/lib/apt/lists/*

RUN python -m venv /opt/venv
WORKDIR /src
COPY pyproject.toml README.md ./
COPY app ./app
RUN python -m pip wheel --no-deps --wheel-dir /wheels . \
    && /opt/venv/bin/pip install /wheels/*.whl

# Final stage: the same Python, the virtual environment, the migrations; no compilers.
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/venv/bin:$PATH \
    STAMMKUNDE_ENVIRONMENT=production \
    STAMMKUNDE_HOST=0.0.0.0 \
    STAMMKUNDE_PORT=8000 \
    STAMMKUNDE_WORKERS=2 \
    STAMMKUNDE_MIGRATIONS_DIR=/srv/stammkunde/migrations

RUN useradd --system --uid 10001 --user-group --no-create-home \
        --home-dir /srv/stammkunde stammkunde
COPY --from=build /opt/venv /opt/venv
WORKDIR /srv/stammkunde
COPY migrations ./migrations
# The code belongs to root; the service may write only here (a SQLite file for a trial).
RUN install --directory --owner stammkunde --group stammkunde /srv/stammkunde/data

USER stammkunde
EXPOSE 8000
# Liveness only: a database outage shows on /readyz, and restarting would not cure it.
HEALTHCHECK --interval=15s --timeout=3s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('STAMMKUNDE_PORT', '8000'), timeout=2)"]

# Migrates, then serves with STAMMKUNDE_WORKERS uvicorn workers; on SIGTERM it drains for
# STAMMKUNDE_SHUTDOWN_GRACE_SECONDS and exits 0 (give `docker stop` more time than that).
CMD ["stammkunde", "serve"]
