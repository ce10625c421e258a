"""Portals publishing budgets: one module per platform, one record for what they publish.

Every source turns its platform's catalogue into `PublishedResource` records; `registry`
reads the configured portals (a TOML file users can extend without code).
"""

from budget_core.sources.base import PublishedResource, Source
from budget_core.sources.registry import Portal, load_portals, source_for

__all__ = ["Portal", "PublishedResource", "Source", "load_portals", "source_for"]
