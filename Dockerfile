# The hygiene-map app image (PostGIS runs in its own service: docker-compose.yml).
FROM python:3.11-slim-bookworm
RUN apt-get update && apt-get install -y --no-install-recommends fonts-noto-cjk fonts-wqy-microhei fonts-symbola nodejs npm \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY . .
RUN HYGIENE_MAP_SKIP_SYSTEM=1 ./scripts/setup.sh && ln -s /app/.venv/bin/hygiene-map /usr/local/bin/hygiene-map
EXPOSE 8000
# Migrate, then serve (docker-compose.yml runs the same as its command).
CMD ["sh", "-c", "hygiene-map db migrate && hygiene-map serve --host 0.0.0.0 --port 8000"]
