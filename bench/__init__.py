"""Benchmark harness for courrier (issue 7): `python -m bench --help`.

Starts the real app (`gunicorn wsgi:app`, one sync worker) and the stateless flask-jwt-extended
baseline (`bench/baseline_app.py`) side by side, pins the servers to core 0 and the load generator
to core 1, alternates A/B runs and prints ratios measured in the same run, so that a noisy shared
machine still gives comparable numbers.
"""
