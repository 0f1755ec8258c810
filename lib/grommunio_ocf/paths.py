"""Path arithmetic on strings: normalising an absolute path, "is it under".

No filesystem access.  Both the agents (parameters, the binds list, the
mount table, the holder scan) and the migration tool (the paths of
Filesystem primitives) need exactly these two answers, so they live here
rather than in one of those modules.
"""


def absolute_path(text):
    """An absolute path, normalised; empty means "not set" (``None``)."""
    if text == "":
        return None
    if "\0" in text or "\n" in text:
        raise ValueError("%r contains a NUL or newline" % text)
    if not text.startswith("/"):
        raise ValueError("%r is not an absolute path" % text)
    parts = [p for p in text.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise ValueError("%r contains '..'" % text)
    return "/" + "/".join(parts)


def is_under(path, top):
    """``path`` is ``top`` or inside it (string-wise, both normalised)."""
    return path == top or top == "/" or path.startswith(top + "/")
