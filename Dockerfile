# streamrec worker image: `docker build -t streamrec .`, then `docker run streamrec worker`.
# Only the packages are copied in: local data (var/, MovieLens files) never enters the image.

FROM python:3.11-slim AS build

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# annoy ships no binary wheels: it is compiled here, and only the virtualenv reaches the runtime.
RUN apt-get update \
    && apt-get install -y --no-install-recommends build-essential \
    && rm -rf /var/lib/apt/lists/*
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH

WORKDIR /src
COPY pyproject.toml README* ./
COPY streamrec ./streamrec
COPY schemas ./schemas
COPY tables ./tables
COPY models ./models
COPY agents ./agents
COPY api ./api
COPY offline ./offline
COPY cli ./cli
RUN pip install .


FROM python:3.11-slim AS runtime

ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    STREAMREC_DATA_DIR=/data \
    STREAMREC_REGISTRY=/registry \
    STREAMREC_API_HOST=0.0.0.0 \
    STREAMREC_API_PORT=8000

# libgomp1: OpenMP runtime used by implicit and catboost.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libgomp1 \
    && rm -rf /var/lib/apt/lists/*

COPY --from=build /opt/venv /opt/venv

RUN useradd --create-home --uid 10001 --shell /usr/sbin/nologin streamrec \
    && mkdir -p /data /registry \
    && chown streamrec:streamrec /data /registry

USER streamrec
WORKDIR /home/streamrec
VOLUME ["/data"]
EXPOSE 8000

HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=5 \
    CMD ["python", "-c", "import urllib.request, sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=4).status != 200)"]

ENTRYPOINT ["streamrec"]
CMD ["worker"]
