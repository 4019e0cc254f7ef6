"""python manage.py seed_demo [--seed N] [--scale N] [--password P] [--reset]"""

from django.core.management.base import BaseCommand, CommandError, CommandParser

from tracker.dbstats import refresh_statistics
from tracker.demo.seed import DEMO_USERS, Seeder
from tracker.models import Workspace


class Command(BaseCommand):
    help = "Create the demo workspaces acme and globex (skipped when they exist, unless --reset)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--seed", type=int, default=1, help="random seed: same seed, same data")
        parser.add_argument("--scale", type=int, default=1, help="multiply the data (100 ≈ 100k items, 200k feedback)")
        parser.add_argument("--password", default="demo", help="password of every demo user")
        parser.add_argument("--reset", action="store_true", help="delete acme and globex first")

    def handle(self, *args, **options) -> None:  # noqa: ANN002, ANN003
        if options["scale"] < 1 or options["scale"] > 1000:
            raise CommandError("--scale must be between 1 and 1000.")
        existing = Workspace.objects.filter(slug__in=["acme", "globex"])
        if existing.exists():
            if not options["reset"]:
                self.stdout.write("The demo workspaces exist already; use --reset to rebuild them.")
                return
            existing.delete()
        seeder = Seeder(
            seed=options["seed"], scale=options["scale"], password=options["password"], out=self.stdout.write
        )
        report = seeder.run()
        refresh_statistics()
        counts = ", ".join(f"{n:,} {name}" for name, n in report.counts.items())
        self.stdout.write(self.style.SUCCESS(f"Seeded acme and globex in {report.seconds}s: {counts}."))
        self.stdout.write(f"Demo logins (password {options['password']!r}): {', '.join(DEMO_USERS)}")
