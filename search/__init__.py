"""Search: the Whoosh index behind a small facade; nothing outside imports whoosh."""
