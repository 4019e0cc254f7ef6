from collections import defaultdict

from django.conf import settings
from django.db import migrations, models


def fill_customer_segments(apps, schema_editor):
    """The segments of the known customers behind each linked item, as
    services.metrics.items_refresh_impact keeps them from now on."""
    BacklogItem = apps.get_model("tracker", "BacklogItem")
    FeedbackLink = apps.get_model("tracker", "FeedbackLink")
    segments = defaultdict(set)
    pairs = (
        FeedbackLink.objects.filter(feedback__customer__isnull=False)
        .order_by()
        .values_list("item_id", "feedback__customer__segment")
        .distinct()
    )
    for item_id, segment in pairs.iterator(chunk_size=5000):
        segments[item_id].add(segment)
    rows = [BacklogItem(pk=pk, customer_segments=sorted(found)) for pk, found in segments.items()]
    BacklogItem.objects.bulk_update(rows, ["customer_segments"], batch_size=2000)


class Migration(migrations.Migration):
    dependencies = [
        ("tracker", "0004_performance_indexes"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="backlogitem",
            name="customer_segments",
            field=models.JSONField(blank=True, default=list),
        ),
        migrations.RunPython(fill_customer_segments, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name="backlogitem",
            index=models.Index(
                condition=models.Q(("deleted_at__isnull", True), ("kind", "epic")),
                fields=["project", "rank"],
                name="item_live_epics",
            ),
        ),
    ]
