"""CockroachDB Cloud CMEK as a Pulumi component."""

__version__ = "0.1.0"
