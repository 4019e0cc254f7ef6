"""Rebuild the similarity index (after bulk loads such as seed_demo, which bypass services)."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from tracker.models import Workspace
from tracker.services.similarity import workspace_reindex


class Command(BaseCommand):
    help = "Rebuild the term index behind similarity suggestions for one or every workspace."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--workspace", help="Workspace slug (default: all)")

    def handle(self, *args: Any, workspace: str | None, **options: Any) -> None:
        workspaces = Workspace.objects.all()
        if workspace:
            workspaces = workspaces.filter(slug=workspace)
            if not workspaces.exists():
                raise CommandError(f"No workspace {workspace!r}")
        for ws in workspaces:
            count = workspace_reindex(workspace_id=ws.pk)
            self.stdout.write(f"{ws.slug}: indexed {count} documents")
