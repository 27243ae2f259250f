"""Writes: keyword-only, atomic, validated functions. Views, forms, serializers, admin and
commands call these; they hold the business rules."""
