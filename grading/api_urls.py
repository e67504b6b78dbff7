"""Routes of the risk-of-bias API (included at /api/v1/ by config/urls.py)."""

urlpatterns: list = []
