"""Rebuild the similarity index (after bulk loads such as seed_demo, which bypass services)."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from tracker.dbstats import refresh_statistics
from tracker.models import Workspace
from tracker.services.similarity import suggestions_rebuild, workspace_reindex


class Command(BaseCommand):
    help = "Rebuild the term index behind similarity suggestions for one or every workspace."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--workspace", help="Workspace slug (default: all)")
        parser.add_argument(
            "--suggest",
            type=int,
            default=2000,
            metavar="N",
            help="Then store suggestions for the N newest untriaged feedback per workspace (0: none)",
        )

    def handle(self, *args: Any, workspace: str | None, suggest: int, **options: Any) -> None:
        workspaces = Workspace.objects.all()
        if workspace:
            workspaces = workspaces.filter(slug=workspace)
            if not workspaces.exists():
                raise CommandError(f"No workspace {workspace!r}")
        for ws in workspaces:
            count = workspace_reindex(workspace_id=ws.pk)
            self.stdout.write(f"{ws.slug}: indexed {count} documents")
            refresh_statistics("tracker_termposting", "tracker_termstat")
            if suggest > 0:
                done = suggestions_rebuild(workspace_id=ws.pk, limit=suggest)
                self.stdout.write(f"{ws.slug}: suggestions for {done} untriaged feedback")
