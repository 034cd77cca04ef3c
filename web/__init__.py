"""Web plumbing shared by the API and the dashboard: sign-in and sessions, errors to HTTP."""
