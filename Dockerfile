# The hygiene-map app image (PostGIS runs in its own service: docker-compose.yml).
FROM python:3.11-slim-bookworm
# postgresql-client-15: pg_dump/pg_restore for `hygiene-map db backup|restore`, of the db service's major version
# (postgis/postgis:15-3.3 in docker-compose.yml; bookworm's own client is 15; pg_dump must not be older than the server).
RUN apt-get update && apt-get install -y --no-install-recommends fonts-noto-cjk fonts-wqy-microhei fonts-symbola nodejs npm \
        postgresql-client-15 \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY . .
RUN HYGIENE_MAP_SKIP_SYSTEM=1 ./scripts/setup.sh && ln -s /app/.venv/bin/hygiene-map /usr/local/bin/hygiene-map
# The data home (photos, rejects files) is a volume in docker-compose.yml: a new container keeps it.
ENV HYGIENE_MAP_HOME=/var/lib/hygiene-map
EXPOSE 8000
# Migrate, then serve (docker-compose.yml runs the same as its command).
CMD ["sh", "-c", "hygiene-map db migrate && hygiene-map serve --host 0.0.0.0 --port 8000"]
