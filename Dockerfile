# kohorte: the HTTP service on port 8000, SQLite in /data by default or PostgreSQL through
# KOHORTE_DATABASE_URL (see docker-compose.yml).
FROM python:3.12.8-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    KOHORTE_DATABASE_URL=sqlite:////data/kohorte.db

WORKDIR /build
COPY pyproject.toml setup.py MANIFEST.in README.md LICENSE ./
COPY src ./src
COPY migrations ./migrations
# A regular (non-editable) install: the migrations travel inside the package.
RUN pip install . && rm -rf /build

RUN useradd --system --create-home --uid 10001 kohorte \
    && mkdir /data && chown kohorte:kohorte /data
USER kohorte
WORKDIR /data
VOLUME ["/data"]
EXPOSE 8000

HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request, sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/readyz', timeout=2).status == 200 else 1)"]

# Applies pending migrations, prints the generated admin token on first start (unless
# KOHORTE_ADMIN_TOKEN is set), then serves.
CMD ["kohorte", "serve", "--host", "0.0.0.0", "--port", "8000"]
