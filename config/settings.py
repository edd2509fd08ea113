"""Settings read from the environment, with safe defaults for one development machine.

Production needs at least: DEBUG=0, SECRET_KEY, LIKENESS_MASTER_KEY, ALLOWED_HOSTS, HTTPS=1 and a
DATABASE_URL.
"""

import base64
import ipaddress
import os
import secrets
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

from config.env import envbool, envint, envlist, envstr

BASE_DIR = Path(__file__).resolve().parent.parent
# Everything the site writes at run time (database, media, keys) lives under one folder.
VAR_DIR = Path(envstr("LIKENESS_VAR_DIR", str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = envbool("DEBUG", False)


def _secret_key() -> str:
    """SECRET_KEY from the environment, else one generated once and kept in var/ (never in git)."""
    if key := envstr("SECRET_KEY"):
        return key
    key_file = VAR_DIR / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()


def _master_key() -> str:
    """LIKENESS_MASTER_KEY (base64 of 32 bytes) wraps every data key that encrypts likeness files
    (core/crypto.py). From the environment, else generated once and kept in var/ for development;
    `check --deploy` refuses the generated one. Losing it loses every encrypted file."""
    if key := envstr("LIKENESS_MASTER_KEY"):
        return key
    key_file = VAR_DIR / "master_key"
    if not key_file.exists():
        key_file.write_text(base64.b64encode(secrets.token_bytes(32)).decode())
        key_file.chmod(0o600)
    return key_file.read_text().strip()


LIKENESS_MASTER_KEY = _master_key()
LIKENESS_MASTER_KEY_FROM_ENV = bool(envstr("LIKENESS_MASTER_KEY"))
ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS")

# One switch for deployments behind TLS: redirects, secure cookies, HSTS.
HTTPS = envbool("HTTPS", False)
SECURE_SSL_REDIRECT = HTTPS
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", 31_536_000 if HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = envbool("SECURE_HSTS_PRELOAD", HTTPS)
if envbool("BEHIND_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# The reverse proxies (addresses or networks, e.g. "10.0.0.0/8") whose X-Forwarded-For is believed
# (core/client.py): the consent ledger, evidence and rate limits record the client, not the proxy.
TRUSTED_PROXIES = envlist("TRUSTED_PROXIES")
for _network in TRUSTED_PROXIES:
    try:
        ipaddress.ip_network(_network, strict=False)
    except ValueError as _error:
        message = f"TRUSTED_PROXIES: {_network!r} is no address or network."
        raise ImproperlyConfigured(message) from _error
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

INSTALLED_APPS = [
    # django.contrib.admin with the site's two-step (password, then code) log-in.
    "accounts.admin_site.TwoFactorAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "django_tasks_db",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "accounts",
    "consent",
    "avatars",
    "studio",
    "rendering",
    "provenance",
    "campaigns",
    "lessons",
    "billing",
    "ninja",
    "api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "accounts.middleware.CurrentWorkspaceMiddleware",
    "accounts.middleware.TwoFactorMiddleware",
    # Last: turns a locked-out login (site or admin) into the lock-out page (accounts/throttle.py).
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "accounts.context_processors.workspace",
                "billing.context_processors.billing",
                # csp_nonce for the admin's few nonce'd <style> tags; our own templates need none.
                "django.template.context_processors.csp",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        envstr("DATABASE_URL", f"sqlite:///{VAR_DIR / 'likeness.sqlite3'}"),
        conn_max_age=envint("DATABASE_CONN_MAX_AGE", 0),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The web server and the worker share the file: wait for locks instead of failing,
    # and take the write lock up front so two writers never deadlock.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    # Tests run a worker and a live server in threads: a file, not shared memory, serves them all;
    # one per test process, so two test runs on one machine never share it.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-{os.getpid()}.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# AxesStandaloneBackend first: a locked-out username or address is refused before any password
# is checked (site and admin login alike).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = envstr("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"]

# Media is private: there is no MEDIA_URL route; views serve files after checking membership.
MEDIA_ROOT = Path(envstr("MEDIA_ROOT", str(VAR_DIR / "media")))
# STORAGE=local (default) keeps files under MEDIA_ROOT; STORAGE=s3 uses any S3-compatible store
# (AWS, MinIO, Ceph...) with private objects and short-lived signed URLs.
STORAGE = envstr("STORAGE", "local")
if STORAGE == "s3":
    DEFAULT_STORAGE = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": envstr("S3_BUCKET"),
            "endpoint_url": envstr("S3_ENDPOINT_URL") or None,
            "region_name": envstr("S3_REGION", "us-east-1"),
            "access_key": envstr("S3_ACCESS_KEY_ID") or None,
            "secret_key": envstr("S3_SECRET_ACCESS_KEY") or None,
            "signature_version": "s3v4",
            "addressing_style": envstr("S3_ADDRESSING_STYLE", "path"),
            "default_acl": "private",
            "querystring_auth": True,
            "querystring_expire": envint("MEDIA_URL_EXPIRE_SECONDS", 300),
            "file_overwrite": False,
        },
    }
elif STORAGE == "local":
    DEFAULT_STORAGE = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(MEDIA_ROOT)},
    }
else:
    raise ValueError(f"STORAGE={STORAGE!r}: use 'local' or 's3'")
STORAGES = {
    "default": DEFAULT_STORAGE,
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG and envbool("COLLECTSTATIC", False)
        else "django.contrib.staticfiles.storage.StaticFilesStorage",
    },
}
WHITENOISE_USE_FINDERS = not envbool("COLLECTSTATIC", False)


def _media_origins() -> list[str]:
    """Where media may load from besides this site: with S3 a media view redirects to a signed URL
    on the store, and the browser checks the CSP against the redirect's target too."""
    if origins := envlist("CSP_MEDIA_ORIGINS"):
        return origins
    if STORAGE != "s3":
        return []
    if endpoint := envstr("S3_ENDPOINT_URL"):
        scheme, _, rest = endpoint.partition("://")
        return [f"{scheme}://{rest.split('/')[0]}"]
    return ["https://*.amazonaws.com"]


# Content-Security-Policy on every response (Django's own middleware). No inline script anywhere:
# pages load static/js/*.js and htmx from 'self'. blob:/data: carry the ceremony's recorded clip and
# drawn signature; no page is meant to be framed (the share page is a link, not an embed).
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF, CSP.NONCE],
    "img-src": [CSP.SELF, "data:", "blob:", *_media_origins()],
    "media-src": [CSP.SELF, "blob:", *_media_origins()],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
}

# Background work goes through django.tasks; the default backend keeps tasks in the database
# and `manage.py db_worker` runs them. TASK_BACKEND may name any django.tasks backend.
# TASK_BACKEND=database (default): tasks wait in the database; `manage.py db_worker` runs them.
# TASK_BACKEND=celery: Celery workers on any number of machines, broker CELERY_BROKER_URL (Redis).
# TASK_BACKEND may also name any django.tasks backend class. Renders go to queue RENDER_QUEUE
# ("gpu"), everything else to "default". Render state lives on RenderJob, not in the queue.
RENDER_QUEUE = envstr("RENDER_QUEUE", "gpu")
TASK_QUEUES = ["default", RENDER_QUEUE]
_TASK_BACKENDS = {
    "database": "django_tasks_db.DatabaseBackend",
    "celery": "django_tasks_celery.CeleryBackend",
}
TASK_BACKEND = envstr("TASK_BACKEND", "database")
TASKS = {
    "default": {
        "BACKEND": _TASK_BACKENDS.get(TASK_BACKEND, TASK_BACKEND),
        "QUEUES": TASK_QUEUES,
        "OPTIONS": {"CELERY_APP": "config.celery.app"} if TASK_BACKEND == "celery" else {},
    }
}
# A running render's worker renews a lease; a job whose lease expired is retried with backoff.
RENDER_LEASE_SECONDS = envint("RENDER_LEASE_SECONDS", 60)
RENDER_MAX_ATTEMPTS = envint("RENDER_MAX_ATTEMPTS", 3)
RENDER_RETRY_BACKOFF_SECONDS = envint("RENDER_RETRY_BACKOFF_SECONDS", 30)
RENDER_WORK_DIR = Path(envstr("RENDER_WORK_DIR", str(VAR_DIR / "work")))
# Rendered segments (speech, face frames) kept for re-renders, in the default storage under
# segment-cache/, least recently used first out above this size.
SEGMENT_CACHE_MAX_BYTES = envint("SEGMENT_CACHE_MAX_BYTES", 2 * 1024**3)
# Timelines (engine/timeline.py): what one video may hold; a longer or larger one is refused
# at submit with a message that says which limit it passes.
TIMELINE_MAX_SCENES = envint("TIMELINE_MAX_SCENES", 100)

# Campaigns: at most this many recipients in one list (a bigger file is refused, the limit named)
# and this many bytes of CSV; recipients' data is erased this many days after the campaign was
# made (or when it is deleted), and its share pages answer 410 from then on.
CAMPAIGN_MAX_ROWS = envint("CAMPAIGN_MAX_ROWS", 10_000)
CAMPAIGN_MAX_BYTES = envint("CAMPAIGN_MAX_BYTES", 5 * 1024 * 1024)
CAMPAIGN_RETENTION_DAYS = envint("CAMPAIGN_RETENTION_DAYS", 90)
# A launch of up to this many rows submits them in the request; a bigger one in the background.
CAMPAIGN_INLINE_LAUNCH_ROWS = envint("CAMPAIGN_INLINE_LAUNCH_ROWS", 100)
TIMELINE_MAX_SEGMENTS = envint("TIMELINE_MAX_SEGMENTS", 500)
# Lessons: a slide deck (PDF, or PPTX turned into a PDF by LibreOffice) of at most this many
# bytes and slides; a PPTX unpacking to more than LESSON_DECK_MAX_UNPACKED_BYTES is refused
# unopened, and a conversion running longer than LESSON_DECK_CONVERT_SECONDS is stopped.
LESSON_DECK_MAX_BYTES = envint("LESSON_DECK_MAX_BYTES", 50 * 1024 * 1024)
LESSON_DECK_MAX_SLIDES = envint("LESSON_DECK_MAX_SLIDES", 50)
LESSON_DECK_MAX_UNPACKED_BYTES = envint("LESSON_DECK_MAX_UNPACKED_BYTES", 300 * 1024 * 1024)
LESSON_DECK_CONVERT_SECONDS = envint("LESSON_DECK_CONVERT_SECONDS", 120)
LESSON_SOFFICE = envstr("LESSON_SOFFICE", "soffice")
LESSON_IMAGE_MAX_BYTES = envint("LESSON_IMAGE_MAX_BYTES", 15 * 1024 * 1024)
TIMELINE_MAX_SECONDS = envint("TIMELINE_MAX_SECONDS", 3600)
# The longest render we allow; the broker must not redeliver a task that is still running.
RENDER_TIME_LIMIT_SECONDS = envint("RENDER_TIME_LIMIT_SECONDS", 3600)
CELERY_BROKER_URL = envstr("CELERY_BROKER_URL", "redis://127.0.0.1:6379/0")
CELERY_RESULT_BACKEND = envstr("CELERY_RESULT_BACKEND", CELERY_BROKER_URL)
CELERY_RESULT_EXTENDED = True
CELERY_TASK_ACKS_LATE = True  # a worker that dies mid-render leaves the message for another
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1  # one render at a time per worker process
CELERY_TASK_TIME_LIMIT = RENDER_TIME_LIMIT_SECONDS + 300
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 2 * RENDER_TIME_LIMIT_SECONDS}
CELERY_TASK_DEFAULT_QUEUE = "default"

# Upload and content limits, enforced by the forms with a specific message each.
MAX_PORTRAIT_BYTES = envint("MAX_PORTRAIT_BYTES", 15 * 1024 * 1024)
MAX_VOICE_SAMPLE_BYTES = envint("MAX_VOICE_SAMPLE_BYTES", 50 * 1024 * 1024)
MIN_VOICE_SAMPLE_SECONDS = envint("MIN_VOICE_SAMPLE_SECONDS", 2)
MAX_VOICE_SAMPLE_SECONDS = envint("MAX_VOICE_SAMPLE_SECONDS", 600)
MAX_SCRIPT_CHARACTERS = envint("MAX_SCRIPT_CHARACTERS", 5000)
# A footage avatar's video of the subject: one to five minutes (the mouths of its renders are
# chosen from it, so it must cover the sounds of the language), up to MAX_FOOTAGE_BYTES; it is
# encrypted at rest in one piece, so the limit also bounds a worker's memory.
MAX_FOOTAGE_BYTES = envint("MAX_FOOTAGE_BYTES", 200 * 1024 * 1024)
FOOTAGE_MIN_SECONDS = envint("FOOTAGE_MIN_SECONDS", 60)
FOOTAGE_MAX_SECONDS = envint("FOOTAGE_MAX_SECONDS", 300)
# Acceptable-use screening of scripts (JSON: category -> label, unless, rules; the same for every
# workspace). Empty: the policy that ships, engine/text/screening_policy.json.
SCREENING_POLICY_FILE = envstr("SCREENING_POLICY_FILE", "")
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# Render output. Engines are chosen by name; the engine package owns what each name means.
RENDER_WIDTH = envint("RENDER_WIDTH", 512)
RENDER_HEIGHT = envint("RENDER_HEIGHT", 512)
RENDER_FPS = envint("RENDER_FPS", 25)
FACE_ENGINE = envstr("FACE_ENGINE", "warp")
SITE_NAME = envstr("SITE_NAME", "Likeness")
# The site's signing identity (root CA + ES256 signer) for C2PA manifests and consent certificates:
# created on first use (engine.keys), outside the repository and the database.
SITE_KEYS_DIR = Path(envstr("SITE_KEYS_DIR", str(VAR_DIR / "keys")))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": envstr("LOG_LEVEL", "INFO")},
    # axes: lock-outs are warnings; each login and failure would be an INFO line.
    "loggers": {"django.db.backends": {"level": "WARNING"}, "axes": {"level": "WARNING"}},
}

# Consent (issue 4): the subject's link, the consent clip, and how long biometric data outlives
# a revoked, rejected or expired consent before `manage.py erase_biometrics` deletes it.
CONSENT_INVITE_DAYS = envint("CONSENT_INVITE_DAYS", 14)
CONSENT_MAX_CLIP_BYTES = envint("CONSENT_MAX_CLIP_BYTES", 25 * 1024 * 1024)
CONSENT_BIOMETRIC_RETENTION_DAYS = envint("CONSENT_BIOMETRIC_RETENTION_DAYS", 30)
# Scans of consents signed on paper, and subjects' written requests to revoke (PDF, image, email).
CONSENT_MAX_DOCUMENT_BYTES = envint("CONSENT_MAX_DOCUMENT_BYTES", 20 * 1024 * 1024)
# The automatic check of a consent clip runs in its own process and is stopped (the grant then
# awaits review) after this many seconds; clip length limits are the engine's
# (engine/biometrics/bounds.py), read from the container before anything is decoded.
CONSENT_VERIFY_TIMEOUT_SECONDS = envint("CONSENT_VERIFY_TIMEOUT_SECONDS", 180)

# Face (issue 6): FACE_ENGINE above picks the engine by name (`warp`: CPU, the default; `neural`:
# MuseTalk 1.5 lip sync, GPU). The neural engine loads MuseTalk's released models/ folder as
# download_weights.sh fills it (musetalkV15/, sd-vae/, whisper/, optional face-parse-bisent/)
# from this directory; the engine reads the environment variable of the same name. Nothing is
# downloaded.
FACE_NEURAL_WEIGHTS_DIR = envstr("FACE_NEURAL_WEIGHTS_DIR", "")

# Voice (issue 5): the voice engine by name (`world`: festival + conversion toward the subject's
# voice, CPU, the default; `festival`: festival's own voice; `xtts`: Coqui XTTS-v2, GPU), the
# enrollment checks on voice samples, and where XTTS-v2 weights live (never downloaded).
VOICE_ENGINE = envstr("VOICE_ENGINE", "world")
MIN_VOICE_SPEECH_SECONDS = envint("MIN_VOICE_SPEECH_SECONDS", 3)
MIN_VOICE_SAMPLE_RATE = envint("MIN_VOICE_SAMPLE_RATE", 8000)  # phone-band samples clone
MIN_VOICE_SNR_DB = envint("MIN_VOICE_SNR_DB", 20)
XTTS_WEIGHTS_DIR = envstr("XTTS_WEIGHTS_DIR", "")
XTTS_DEVICE = envstr("XTTS_DEVICE", "auto")  # auto: cuda when available, else cpu
# Chatterbox (VOICE_ENGINE=chatterbox; MIT code and weights): the folder holding Resemble AI's
# released ve.safetensors, t3_cfg.safetensors, s3gen.safetensors and tokenizer.json (never
# downloaded). It runs on XTTS_DEVICE's device.
VOICE_CHATTERBOX_WEIGHTS_DIR = envstr("VOICE_CHATTERBOX_WEIGHTS_DIR", "")

# Provenance: every render is watermarked and its MP4 signed (C2PA) with the identity in
# SITE_KEYS_DIR (`manage.py ensure_signing_identity` creates it; so does the first render).
# The public /verify page and API take files up to VERIFY_MAX_BYTES and VERIFY_MAX_SECONDS, with
# frames up to VERIFY_MAX_SIDE pixels a side, each ffprobe/ffmpeg run cut at VERIFY_TOOL_SECONDS
# (all checked before decoding), at most VERIFY_RATE_PER_MINUTE checks per client address a minute.
C2PA_SIGN = envbool("C2PA_SIGN", True)
VERIFY_MAX_BYTES = envint("VERIFY_MAX_BYTES", 200 * 1024 * 1024)
VERIFY_MAX_SECONDS = envint("VERIFY_MAX_SECONDS", 3600)
VERIFY_MAX_SIDE = envint("VERIFY_MAX_SIDE", 4096)
VERIFY_TOOL_SECONDS = envint("VERIFY_TOOL_SECONDS", 20)
VERIFY_RATE_PER_MINUTE = envint("VERIFY_RATE_PER_MINUTE", 10)

# The cache holds the verify rate limit's counters, so every web process must see the same one:
# CACHE_URL=redis://host:6379/1 when web processes run on several machines (compose does this),
# else a folder on this machine that all its processes share.
CACHE_URL = envstr("CACHE_URL", "")
if CACHE_URL.startswith(("redis://", "rediss://")):
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL}
    }
elif CACHE_URL:
    raise ImproperlyConfigured(f"CACHE_URL must be a redis:// URL, not {CACHE_URL!r}")
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }

# Accounts (issue 19): after LOGIN_FAILURE_LIMIT failed log-ins (site or admin) a username, and
# separately a client address, is locked for LOGIN_LOCKOUT_MINUTES (django-axes; the address is
# core.client.client_address, so a forged X-Forwarded-For changes nothing). Signups are limited
# to SIGNUP_RATE_PER_HOUR per client address and per email address. There is no password reset
# flow (no email is sent by the site); an owner or an administrator resets a password.
LOGIN_FAILURE_LIMIT = envint("LOGIN_FAILURE_LIMIT", 5)
LOGIN_LOCKOUT_MINUTES = envint("LOGIN_LOCKOUT_MINUTES", 15)
SIGNUP_RATE_PER_HOUR = envint("SIGNUP_RATE_PER_HOUR", 10)
AXES_FAILURE_LIMIT = LOGIN_FAILURE_LIMIT
AXES_COOLOFF_TIME = timedelta(minutes=LOGIN_LOCKOUT_MINUTES)
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]  # either one locks
AXES_CLIENT_IP_CALLABLE = "core.client.client_address"
AXES_LOCKOUT_CALLABLE = "accounts.throttle.locked_out_response"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
AXES_SENSITIVE_PARAMETERS = ["username", "ip_address", "code"]  # no two-factor code in the rows
# Two-factor log-in (issue 19): any user can turn on a TOTP authenticator (Two-factor page) and
# gets one-time backup codes; a user with one of these roles in any workspace (comma-separated,
# e.g. "owner,auditor") must set it up before anything else. Wrong codes count as failed log-ins.
REQUIRE_TWO_FACTOR_ROLES = envlist("REQUIRE_TWO_FACTOR_ROLES")
OTP_TOTP_ISSUER = envstr("OTP_TOTP_ISSUER", "Likeness")
# Invitations to a workspace wait this long for the invited user's answer.
INVITATION_DAYS = envint("INVITATION_DAYS", 7)

# The public API (api/, issue 20). Each token may make API_RATE_LIMIT calls per window (counted
# in the cache, shared by every web process when CACHE_URL names Redis); download links it hands
# out live API_DOWNLOAD_SECONDS; an Idempotency-Key is remembered API_IDEMPOTENCY_HOURS.
API_RATE_LIMIT = envint("API_RATE_LIMIT", 120)
API_RATE_WINDOW_SECONDS = envint("API_RATE_WINDOW_SECONDS", 60)
API_DOWNLOAD_SECONDS = envint("API_DOWNLOAD_SECONDS", 900)
API_IDEMPOTENCY_HOURS = envint("API_IDEMPOTENCY_HOURS", 24)
# Webhooks: delivery refuses loopback, private, link-local and metadata addresses (checked on the
# address connected to) unless this is set, which only the tests do.
WEBHOOK_ALLOW_PRIVATE = envbool("WEBHOOK_ALLOW_PRIVATE", False)
WEBHOOK_TIMEOUT_SECONDS = envint("WEBHOOK_TIMEOUT_SECONDS", 15)
WEBHOOK_QUEUE = envstr("WEBHOOK_QUEUE", "default")
# A rotated secret keeps signing (next to the new one) this long.
WEBHOOK_SECRET_OVERLAP_HOURS = envint("WEBHOOK_SECRET_OVERLAP_HOURS", 24)
# consent.expiring is sent this many days before a consent's valid-until.
CONSENT_EXPIRING_DAYS = envint("CONSENT_EXPIRING_DAYS", 14)
# Email to people (issue 20: renders and campaigns done, consent revoked or expiring, a webhook
# endpoint disabled): printed on the console unless EMAIL_HOST names an SMTP server.
EMAIL_HOST = envstr("EMAIL_HOST", "")
if EMAIL_HOST:
    MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {
                "host": EMAIL_HOST,
                "port": envint("EMAIL_PORT", 25),
                "username": envstr("EMAIL_HOST_USER", ""),
                "password": envstr("EMAIL_HOST_PASSWORD", ""),
                "use_tls": envbool("EMAIL_USE_TLS", False),
                "timeout": envint("EMAIL_TIMEOUT", 15),
            },
        }
    }
else:
    MAILERS = {"default": {"BACKEND": "django.core.mail.backends.console.EmailBackend"}}
    # Email is optional: without EMAIL_HOST the messages go to the log (console) on purpose, so
    # `check --deploy`'s "development-only email backend" error does not apply.
    SILENCED_SYSTEM_CHECKS = ["mail.E001"]
del EMAIL_HOST  # RemovedInDjango2028Warning: MAILERS replaces the EMAIL_* settings
DEFAULT_FROM_EMAIL = envstr("DEFAULT_FROM_EMAIL", "likeness@localhost")

# Billing (issue 21): off unless STRIPE_SECRET_KEY is set (a self-hosted site bills nobody: no
# pages, no limits, no ledger). Plans and credit packs are edited in the admin.
STRIPE_SECRET_KEY = envstr("STRIPE_SECRET_KEY", "")
STRIPE_WEBHOOK_SECRET = envstr("STRIPE_WEBHOOK_SECRET", "")
# Dotted path of a callable returning a stripe.HTTPClient (the tests answer as Stripe does);
# empty: stripe's own client over the network.
STRIPE_HTTP_CLIENT = envstr("STRIPE_HTTP_CLIENT", "")
# What a workspace without a plan (packs only) may do.
BILLING_DEFAULT_CONCURRENCY = envint("BILLING_DEFAULT_CONCURRENCY", 1)
BILLING_DEFAULT_LONGEST_VIDEO_SECONDS = envint("BILLING_DEFAULT_LONGEST_VIDEO_SECONDS", 300)
# The billing pages warn when the balance falls under this many seconds.
BILLING_LOW_BALANCE_SECONDS = envint("BILLING_LOW_BALANCE_SECONDS", 300)
