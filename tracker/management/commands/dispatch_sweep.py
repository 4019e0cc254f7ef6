"""Send pending background work again (what the beat job does every minute)."""

from typing import Any

from django.core.management.base import BaseCommand

from tracker.services.dispatch import dispatch_sweep, pending_count


class Command(BaseCommand):
    help = "Re-send background work the broker never took (or no worker finished), and due webhook deliveries."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--min-age", type=int, default=None, help="Seconds a pending record must be old")
        parser.add_argument("--resend-after", type=int, default=None, help="Seconds before a sent record is re-sent")

    def handle(self, *args: Any, min_age: int | None, resend_after: int | None, **options: Any) -> None:
        sent = dispatch_sweep(min_age=min_age, resend_after=resend_after)
        self.stdout.write(f"Sent {sent}; {pending_count()} unfinished records remain.")
