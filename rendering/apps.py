from django.apps import AppConfig


class RenderingConfig(AppConfig):
    name = "rendering"

    def ready(self):
        import rendering.segment_cache  # noqa: F401 (consent receivers empty the cache)
        from rendering import tasks  # noqa: F401 (connects the queue to render_due)
