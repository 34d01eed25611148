# One image for the controller and for simulated edge agents (`wardcast-agent simulate`).
# Build: docker compose build   (see docker-compose.yml)
FROM python:3.11-slim-bookworm

# ffmpeg normalises and encodes bulletins, espeak-ng is the offline Vietnamese voice
# when gTTS is unreachable, and DejaVu has the Vietnamese glyphs reports need.
RUN apt-get update \
    && apt-get install -y --no-install-recommends ffmpeg espeak-ng fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /src
# Only what the package needs: a change to tests or docs does not rebuild the image.
COPY pyproject.toml README.md ./
# The pinned, hashed set first (docs/dependencies.md): an image built next year has the
# versions the tests passed with, and this layer is cached until the lock changes.
COPY requirements/controller.txt ./requirements/controller.txt
RUN pip install --require-hashes -r requirements/controller.txt
COPY wardcast_protocol ./wardcast_protocol
COPY firmware_stubs ./firmware_stubs
COPY edge_agent ./edge_agent
COPY controller ./controller
COPY sim ./sim
COPY bench ./bench
# The controller and the simulated agents both run from this image, so it installs both
# sets (a Pi installs `wardcast[agent]` alone); the postgres extra lets the same image
# use the optional PostgreSQL service.
RUN pip install --no-deps ".[controller,agent,postgres]" && rm -rf /src

# Run unprivileged. /data (controller) and /agents (simulated agents) are created
# here, owned by that user, so a named volume mounted there starts out writable.
RUN useradd --system --uid 10001 --user-group --home-dir /data --no-create-home wardcast \
    && mkdir -p /data /agents \
    && chown wardcast:wardcast /data /agents
USER wardcast
WORKDIR /data

EXPOSE 8000
# No HEALTHCHECK here: agents share this image and serve no HTTP; the controller's
# health check lives in docker-compose.yml.
CMD ["wardcast", "serve"]
