# The deployment image: the app and its front-end libraries (from npm, no CDN).
FROM node:20-bookworm-slim AS frontend
WORKDIR /src/frontend
COPY frontend/package.json frontend/package-lock.json ./
RUN npm ci --no-audit --no-fund --omit=dev

FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
# MapServer answers WMS and WFS at /ows (app/ows) as a CGI program; WenQuanYi Micro Hei for its Chinese labels.
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends cgi-mapserver fonts-wqy-microhei \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml README.md alembic.ini ./
COPY app ./app
COPY spatial ./spatial
COPY evaluation ./evaluation
RUN pip install .
COPY migrations ./migrations
COPY data ./data
COPY frontend ./frontend
COPY --from=frontend /src/frontend/node_modules ./frontend/node_modules
ENV CLOUDMAP_FRONTEND_DIR=/app/frontend CLOUDMAP_DATA_DIR=/app/data CLOUDMAP_HOST=0.0.0.0
RUN useradd --system --uid 10001 cloudmap
USER cloudmap
EXPOSE 8000
CMD ["sh", "-c", "cloudmap db upgrade && if [ \"${CLOUDMAP_SEED_DEMO:-0}\" = 1 ]; then cloudmap db seed; fi && exec cloudmap serve --host 0.0.0.0 --port 8000"]
