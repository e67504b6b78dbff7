# Sieve for a team: gunicorn serving the web app; the same image runs the Celery workers.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=config.settings.production \
    SIEVE_VAR_DIR=/var/lib/sieve \
    STATIC_ROOT=/app/staticfiles

WORKDIR /app
RUN useradd --create-home --uid 1000 sieve && mkdir -p /var/lib/sieve && chown sieve /var/lib/sieve

COPY pyproject.toml README.md ./
COPY config ./config
COPY core ./core
COPY reviews ./reviews
COPY screening ./screening
COPY extraction ./extraction
COPY synthesis ./synthesis
COPY grading ./grading
RUN pip install --no-cache-dir .

COPY manage.py ./
COPY templates ./templates
COPY static ./static
# collectstatic needs settings to load; these values exist only during the build.
RUN SECRET_KEY=build-only-not-secret-build-only-not-secret-build-only ALLOWED_HOSTS=build \
    python manage.py collectstatic --noinput

USER sieve
EXPOSE 8000
CMD ["gunicorn", "config.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--timeout", "300", \
     "--access-logfile", "-"]
