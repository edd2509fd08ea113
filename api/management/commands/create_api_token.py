"""Make a workspace API token from the command line; the token is the last line printed."""

from django.core.management.base import BaseCommand, CommandError

from accounts.models import Workspace
from api import services
from api.models import Scope


class Command(BaseCommand):
    help = "Create an API token for a workspace (by name or id) and print it once."

    def add_arguments(self, parser):
        parser.add_argument("--workspace", required=True, help="The workspace's name or id")
        parser.add_argument(
            "--scopes", required=True, help=f"Comma-separated, of: {', '.join(Scope.values)}"
        )
        parser.add_argument("--name", default="Command line", help="What the token is for")

    def handle(self, *args, workspace, scopes, name, **options):
        found = Workspace.objects.filter(name=workspace)
        if workspace.isdigit() and not found.exists():
            found = Workspace.objects.filter(pk=int(workspace))
        if found.count() != 1:
            raise CommandError(
                f"No workspace is named or numbered “{workspace}”."
                if not found.exists()
                else f"Several workspaces are named “{workspace}”; give its id."
            )
        wanted = [s.strip() for s in scopes.split(",") if s.strip()]
        unknown = sorted(set(wanted) - set(Scope.values))
        if unknown or not wanted:
            raise CommandError(
                f"Unknown scopes {unknown}; choose from {', '.join(Scope.values)}."
                if unknown
                else "Give at least one scope."
            )
        token, text = services.create_token(workspace=found.get(), name=name, scopes=wanted)
        self.stdout.write(
            f"Created “{token.name}” for {token.workspace} with {', '.join(token.scopes)}."
        )
        self.stdout.write("Copy the token now; it is not shown again:")
        self.stdout.write(text)
