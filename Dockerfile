# One image for web, worker and beat; docker-compose.yml picks the command.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 VAR_DIR=/srv/var
WORKDIR /srv/app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
# collectstatic needs production settings to load, not real secrets: throwaway values here.
RUN DEBUG=false SECRET_KEY=build-only ALLOWED_HOSTS=build \
    STORE_CREDENTIAL_KEYS=YnVpbGQtb25seS1rZXktbm90LWZvci1hbnktZGF0YS4= \
    python manage.py collectstatic --noinput
RUN useradd --system --home /srv app && mkdir -p /srv/var && chown -R app /srv/var
USER app
EXPOSE 8000
CMD ["gunicorn", "distribution.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
