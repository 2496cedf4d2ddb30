"""What every channel's worker process needs, whatever the channel: the supervised background tasks, the HTTP
plumbing with `/healthz` and `/readyz`, per-user ordering, and the worker's life cycle (listen, warm up, serve,
drain). Channel adapters build on it; `app/worker_runtime.py` supplies the services behind it."""
