"""Backdrop: a datastore for service-performance data."""
