"""Sphinx extension: drop repeated scripts from a page.

sphinx-thebe (and sphinx-togglebutton) register their inline configuration scripts once per
`env-before-read-docs`, which a jupyter-book build fires twice (once with filename None, once
with ""); the page then declares `const THEBE_JS_URL` twice and the browser logs a SyntaxError.
Keep the first copy of every script. Runs last, in place, so that scripts added by other
handlers of the same event (MathJax) stay.
"""


def _unique(app, pagename, templatename, context, doctree):
    scripts = context.get("script_files")
    if not isinstance(scripts, list):
        return
    seen, kept = set(), []
    for js in scripts:
        key = (getattr(js, "filename", js) or "", tuple(sorted(getattr(js, "attributes", {}).items())))
        if key not in seen:
            seen.add(key)
            kept.append(js)
    scripts[:] = kept


def setup(app):
    app.connect("html-page-context", _unique, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
