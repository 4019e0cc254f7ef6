"""Serializers by domain: one per direction where input and output differ."""
