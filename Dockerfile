# hrsync's production image: the same image runs every process of deploy/Procfile (compose.yaml picks one
# per service). Debian's Python; the dependencies from requirements.lock with their hashes; translations
# compiled and static files collected at build, so a container starts ready.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HRSYNC_ENV_FILE=/nonexistent
RUN apt-get update && apt-get install -y --no-install-recommends gettext && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY requirements.lock .
RUN pip install --require-hashes -r requirements.lock
COPY . .
# Production settings at build, with stand-in secrets that exist only for these two commands (the real ones
# come from the environment when a container runs): collectstatic must write WhiteNoise's manifest.
RUN export DJANGO_DEBUG=0 DJANGO_SECRET_KEY=build-only FIELD_ENCRYPTION_KEY=YnVpbGQtb25seS1rZXktbmV2ZXItdXNlZC1hdC1ydW4= \
 && python manage.py compilemessages --ignore=.venv -v 0 \
 && python manage.py collectstatic --noinput -v 0 \
 && useradd --system --home /app hrsync && chown -R hrsync /app
USER hrsync
EXPOSE 8000
CMD ["sh", "-c", "exec gunicorn hrsync.wsgi:application --bind 0.0.0.0:${PORT:-8000} --workers ${WEB_CONCURRENCY:-3} --timeout 60 --forwarded-allow-ips=* --access-logfile -"]
