"""Content-Security-Policy exceptions, named so that each use says why.

The site-wide policy (settings.CONTENT_SECURITY_POLICY) allows nothing inline and no framing.
An email's HTML, previewed inside the staff page that frames it, needs inline styles (email
clients only understand those) and a same-origin frame; it never needs a script.
"""

from csp.decorators import csp_replace

email_html = csp_replace(
    {
        "default-src": ["'none'"],
        "script-src": ["'none'"],
        "style-src": ["'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "form-action": ["'none'"],
        "frame-ancestors": ["'self'"],
    }
)
