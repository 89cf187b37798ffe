"""Retention: schedules, events, holds and signed disposition."""
