"""The extraction tests' fixtures (erin, a second reviewer; seed, the ketamine review's studies and outcomes),
for the risk-of-bias assessments of its trials."""

from extraction.tests.conftest import erin, seed

__all__ = ["erin", "seed"]
