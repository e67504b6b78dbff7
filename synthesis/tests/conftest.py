"""The extraction tests' fixtures (erin, a second reviewer; seed, the ketamine review's studies, comparison and
outcomes), for the summaries computed from their consensus data."""

from extraction.tests.conftest import erin, seed

__all__ = ["erin", "seed"]
