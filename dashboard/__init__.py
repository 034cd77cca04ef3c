"""Dash pages: the leaders' view and the wall display."""
