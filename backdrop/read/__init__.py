"""The read API: a Flask app that answers queries over data sets (`create_app` in app.py)."""
