"""Writes for tracking objects. Placeholder: filled in below."""
