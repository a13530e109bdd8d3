"""Transforms: the Celery worker, dispatch after writes, one module per task."""
