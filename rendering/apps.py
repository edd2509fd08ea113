from django.apps import AppConfig


class RenderingConfig(AppConfig):
    name = "rendering"

    def ready(self):
        from rendering import tasks  # noqa: F401 (connects the queue to render_due)
