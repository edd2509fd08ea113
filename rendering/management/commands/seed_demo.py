from django.core.management.base import BaseCommand

from rendering.demo import ensure_demo, reset_demo_password


class Command(BaseCommand):
    help = "Create (or reuse) the demo workspace and print a login for it."

    def handle(self, *args, **options):
        demo = ensure_demo()
        password = reset_demo_password(demo.user)
        self.stdout.write(
            f"==> Demo workspace ready. Log in as  {demo.user.username} / {password}  "
            f"(avatar “{demo.avatar.name}”, script “{demo.script.title}”)."
        )
