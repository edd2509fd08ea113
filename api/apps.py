from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "api"
    verbose_name = "Public API and webhooks"

    def ready(self) -> None:
        from api import receivers, tasks  # noqa: F401  (events become webhooks; the queue listens)
