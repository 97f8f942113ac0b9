"""The admin console at ``/admin``: merchants and their staff look at the programme here.

Server-rendered Jinja2 pages with htmx for a little progressive enhancement (live search,
in-place updates): every page and form also works without JavaScript, nothing is built
before it runs, and the one script (htmx, committed as released) is served by the service.
Charts are SVG drawn on the server, so they need no script and carry their own text for
screen readers.

Pages call the same services as the ``/v1`` API; the console adds only what a person needs
on top: a login with an admin API key kept in a server-side session, CSRF protection,
confirmation steps, and German and English text with locale formatting.
"""
