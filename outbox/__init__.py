"""Mail infrastructure shared by surveys and follow-ups.

The dev outbox (``CaughtEmail`` and ``OutboxBackend``) stores every email the app sends when
EMAIL_URL=outbox:// (the dev default), so it can be read in the browser.
"""
