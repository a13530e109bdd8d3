"""Kept so that `python setup.py develop` and old tooling still work; pyproject.toml holds the metadata."""
from setuptools import setup

setup()
