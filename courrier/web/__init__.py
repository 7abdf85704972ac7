"""The single-page web client of courrier.

``/`` serves the application shell and ``/static/…`` its assets (plain HTML, CSS and JavaScript ES
modules, no build step, nothing loaded from elsewhere). The client routes with the URL fragment
(``#/documents``, ``#/login`` …) because every other path belongs to the JSON API.
"""
