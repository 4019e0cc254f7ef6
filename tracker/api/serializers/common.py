"""Shared serializer pieces: strict input (unknown fields are an error) and the error shape."""

from typing import Any

from rest_framework import serializers


class StrictSerializer(serializers.Serializer):
    """Input serializer that refuses fields it does not know, instead of ignoring them."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError({name: ["Unknown field."] for name in unknown})
        return super().to_internal_value(data)

    def create(self, validated_data: Any) -> Any:  # pragma: no cover - services write, not serializers
        raise NotImplementedError

    def update(self, instance: Any, validated_data: Any) -> Any:  # pragma: no cover
        raise NotImplementedError


class ErrorSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()
    fields = serializers.DictField(child=serializers.ListField(child=serializers.CharField()))


class EntryErrorSerializer(serializers.Serializer):
    index = serializers.IntegerField()
    fields = serializers.DictField(child=serializers.ListField(child=serializers.CharField()))


class BatchErrorSerializer(ErrorSerializer):
    entries = EntryErrorSerializer(many=True, required=False, help_text="Each bad entry by index")


class StaleErrorSerializer(ErrorSerializer):
    current_version = serializers.IntegerField()


class UpsertOutcomeSerializer(serializers.Serializer):
    index = serializers.IntegerField()
    result = serializers.ChoiceField(choices=["created", "updated", "unchanged"])
    id = serializers.UUIDField()
    key = serializers.CharField(required=False)
    version = serializers.IntegerField()


class BulkResultSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    results = UpsertOutcomeSerializer(many=True)


def absolute(request: Any, path: str) -> str:
    return request.build_absolute_uri(path) if request is not None else path
