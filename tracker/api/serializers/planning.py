"""Projects, sprints and objectives."""

from rest_framework import serializers

from tracker.api.serializers.common import StrictSerializer
from tracker.models import Objective, Project, Sprint


class ProjectSerializer(serializers.ModelSerializer):
    class Meta:
        model = Project
        fields = [
            "id", "key", "name", "description", "mix_end_customer", "mix_employee", "mix_management", "mix_partner",
            "default_sprint_days", "notify_customers", "version", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = fields


class ProjectWriteSerializer(StrictSerializer):
    name = serializers.CharField(max_length=120)
    description = serializers.CharField(required=False, allow_blank=True, max_length=10000)
    mix_end_customer = serializers.IntegerField(min_value=0, max_value=100, required=False)
    mix_employee = serializers.IntegerField(min_value=0, max_value=100, required=False)
    mix_management = serializers.IntegerField(min_value=0, max_value=100, required=False)
    mix_partner = serializers.IntegerField(min_value=0, max_value=100, required=False)
    default_sprint_days = serializers.IntegerField(min_value=1, max_value=60, required=False)
    notify_customers = serializers.BooleanField(required=False)


class ProjectCreateSerializer(ProjectWriteSerializer):
    key = serializers.RegexField(r"^[A-Z]{2,10}$", help_text="2 to 10 capital letters, like SHOP")


class SprintSerializer(serializers.ModelSerializer):
    class Meta:
        model = Sprint
        fields = [
            "id", "number", "name", "goal", "start_date", "end_date", "capacity", "state", "started_at",
            "closed_at", "commitment", "completed_points", "version", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = fields


class SprintWriteSerializer(StrictSerializer):
    name = serializers.CharField(required=False, allow_blank=True, max_length=120)
    goal = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    start_date = serializers.DateField(required=False)
    end_date = serializers.DateField(required=False)
    capacity = serializers.IntegerField(min_value=0, max_value=10000, required=False)


class SprintCloseSerializer(StrictSerializer):
    carry_over_to = serializers.IntegerField(
        min_value=1, required=False, allow_null=True, help_text="Number of a planned sprint for unfinished items"
    )


class ObjectiveSerializer(serializers.ModelSerializer):
    class Meta:
        model = Objective
        fields = [
            "id", "title", "description", "kpi", "baseline", "target", "current", "due_date", "version",
            "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = fields


class ObjectiveWriteSerializer(StrictSerializer):
    title = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, max_length=10000)
    kpi = serializers.CharField(max_length=120)
    baseline = serializers.DecimalField(max_digits=14, decimal_places=2, required=False)
    target = serializers.DecimalField(max_digits=14, decimal_places=2)
    current = serializers.DecimalField(max_digits=14, decimal_places=2, required=False)
    due_date = serializers.DateField(required=False, allow_null=True)
