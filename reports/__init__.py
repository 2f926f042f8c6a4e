"""Leaderboard report and dataset figures."""
