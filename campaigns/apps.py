from django.apps import AppConfig


class CampaignsConfig(AppConfig):
    name = "campaigns"

    def ready(self) -> None:
        from campaigns import models, receivers, tasks  # noqa: F401  (signal receivers)
