"""Issue an API token: `python manage.py create_token USERNAME WORKSPACE_SLUG` prints it last."""

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from tracker.models import TokenScope, Workspace
from tracker.services.errors import ValidationError
from tracker.services.tokens import token_create


class Command(BaseCommand):
    help = "Create an API token for a member of a workspace; the token (shown once) is the last line."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("workspace_slug")
        parser.add_argument("--read-only", action="store_true", help="A token that can only read")
        parser.add_argument("--name", default="", help="A name to recognise the token by")

    def handle(self, *args: Any, **options: Any) -> None:
        user = get_user_model().objects.filter(username=options["username"]).first()
        if user is None:
            raise CommandError(f"No user {options['username']}.")
        workspace = Workspace.objects.filter(slug=options["workspace_slug"]).first()
        if workspace is None:
            raise CommandError(f"No workspace {options['workspace_slug']}.")
        scope = TokenScope.READ if options["read_only"] else TokenScope.WRITE
        try:
            issued = token_create(workspace=workspace, user=user, name=options["name"], scope=scope)
        except ValidationError as exc:
            raise CommandError("; ".join(m for ms in exc.message_dict.values() for m in ms)) from exc
        self.stderr.write(
            f"Token {issued.token.name!r} ({scope}) for {user} in {workspace.slug}; it is shown only now:"
        )
        self.stdout.write(issued.secret)
