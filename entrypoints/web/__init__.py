"""The Litestar app: webhooks, admin API, health and the simulator pages."""
