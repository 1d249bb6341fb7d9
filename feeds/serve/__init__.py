"""Serving a Site: the Flask app and its ASGI front, live reload, and the builder
process whose pack every gunicorn worker maps."""
