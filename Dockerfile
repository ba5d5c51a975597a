# Readiness: `readiness serve` on port 3000, SQLite on the /data volume.
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY checks ./checks
COPY migrations ./migrations
RUN pip install --no-cache-dir --prefix=/install .

FROM python:3.11-slim
RUN useradd --create-home --uid 10001 readiness && mkdir /data && chown readiness /data
COPY --from=build /install /usr/local
COPY app.yaml /etc/readiness/app.yaml
ENV READINESS_CONFIG=/etc/readiness/app.yaml \
    DATABASE_URL=sqlite+aiosqlite:////data/readiness.db \
    PORT=3000 \
    PYTHONUNBUFFERED=1
USER readiness
VOLUME ["/data"]
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=3s \
  CMD python -c "import urllib.request,os; urllib.request.urlopen(f'http://127.0.0.1:{os.environ[\"PORT\"]}/healthz', timeout=2)"
CMD ["readiness", "serve"]
