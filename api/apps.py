from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "api"
    verbose_name = "Public API and webhooks"

    def ready(self) -> None:
        from api import receivers  # noqa: F401  (events from the apps below become webhooks)
