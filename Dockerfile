# PocketCoach bot image. Build:  docker build -t pocketcoach .
# Bake a Chinese embedding model into the image (downloaded at build time, never at run time):
#   docker build --build-arg EMBEDDING_MODEL=BAAI/bge-small-zh-v1.5 -t pocketcoach .
# then run with COACH_EMBEDDING__MODEL=/models/embedding and, after measuring with `coach eval`,
# COACH_RETRIEVAL__DENSE_WEIGHT=<weight>.
FROM python:3.11-slim AS base

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 ANONYMIZED_TELEMETRY=False \
    COACH_DATA_DIR=/data
WORKDIR /app

# pg_dump / pg_restore for `coach db backup|restore` against the compose PostgreSQL 15.
RUN apt-get update && apt-get install -y --no-install-recommends postgresql-client \
    && rm -rf /var/lib/apt/lists/*

RUN pip install --index-url https://download.pytorch.org/whl/cpu "torch==2.13.0" \
    || pip install "torch==2.13.0"
COPY pyproject.toml constraints.txt ./
COPY app ./app
COPY bot ./bot
COPY certification ./certification
COPY ingest ./ingest
COPY knowledge ./knowledge
COPY quizzes ./quizzes
COPY storage ./storage
RUN pip install -c constraints.txt .

ARG EMBEDDING_MODEL=""
RUN if [ -n "$EMBEDDING_MODEL" ]; then \
      HF_HUB_OFFLINE=0 python -c "import sys; from sentence_transformers import SentenceTransformer; \
SentenceTransformer(sys.argv[1]).save('/models/embedding')" "$EMBEDDING_MODEL"; \
    fi

COPY config.toml ./
COPY content ./content
RUN useradd --create-home coach && mkdir -p /data && chown coach /data
USER coach
VOLUME ["/data"]

# Webhook workers answer on telegram.webhook_port; docker-compose.yml checks GET /readyz there.
EXPOSE 8443
# Single-container default (polling or console). docker-compose.yml runs `coach db upgrade`, the ingest job
# and the workers (`coach run`) as separate services instead.
# Prestart: schema to head and the bundled sample content, in one process (incremental, so restarts are cheap).
# .ci/image_check runs the install steps above and this command in a clean venv (no Docker engine in CI).
CMD ["sh", "-c", "coach db upgrade && coach setup-content content --no-progress && exec coach run"]
