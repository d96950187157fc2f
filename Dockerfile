# Warden web image; the same image runs the Celery worker and beat (see docker-compose.yml).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# EXTRAS="[devidp]" builds the development identity provider's image (docker-compose.yml, "idp").
ARG EXTRAS=""
WORKDIR /app
COPY . .
RUN pip install ".${EXTRAS}" \
    && useradd --system --create-home --home-dir /home/warden warden \
    && mkdir -p /data \
    && chown warden /data

USER warden
ENV WARDEN_DATA_DIR=/data \
    WARDEN_BIND=0.0.0.0:8000
VOLUME /data
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=4)"]
CMD ["gunicorn", "-c", "config/gunicorn.conf.py", "config.wsgi"]
