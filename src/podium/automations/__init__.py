"""Automations: trigger evaluation (pure, in `triggers`) and the actions they run."""

from podium.automations.engine import AutomationEngine

__all__ = ["AutomationEngine"]
