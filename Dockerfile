# One Torget node: `torget serve` with ffmpeg for the media plane.
# Built by docker-compose.yml (two nodes behind nginx, PostgreSQL, Redis); see docs/operations.md.
FROM python:3.11-slim-bookworm AS base

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN apt-get update \
 && apt-get install -y --no-install-recommends ffmpeg \
 && rm -rf /var/lib/apt/lists/*

# Build Torget's own wheel from the source tree (only the packages pyproject.toml lists end
# up in it: no .venv, data/ or tests), then install it with its dependencies.
FROM base AS wheel
WORKDIR /src
COPY . .
RUN rm -rf build ./*.egg-info && pip wheel --no-deps --wheel-dir /wheels .

FROM base
WORKDIR /app
COPY --from=wheel /wheels /wheels
COPY requirements.lock /wheels/
# The pinned versions of requirements.lock, then Torget's own wheel without resolving again.
RUN pip install -r /wheels/requirements.lock \
 && pip install --no-deps /wheels/*.whl \
 && rm -rf /wheels \
 && useradd --system --uid 10001 --home-dir /app --no-create-home torget \
 && mkdir -p /app/data/media \
 && chown -R torget:torget /app/data

# A named volume mounted at /app/data/media starts with this directory's owner (torget).
USER torget

# HTTP (behind nginx) and RTMP ingest.
EXPOSE 8080 1935

HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD python -c "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('TORGET_SERVER_PORT', '8080') + '/healthz', timeout=2)"

CMD ["torget", "serve"]
