"""Path arithmetic on strings: normalising an absolute path, the kernel's limits, "is it under".

No filesystem access.  Both the agents (parameters, the binds list, the
mount table, the holder scan) and the migration tool (the paths of
Filesystem primitives) need exactly these two answers, so they live here
rather than in one of those modules.
"""

from .text import quoted


# The kernel's limits on a path (linux/limits.h): bytes per name and in
# all, the terminating NUL included in PATH_MAX.
NAME_MAX = 255
PATH_MAX = 4096


def path_limits(text):
    """``ValueError`` unless the kernel would take ``text`` as a path.

    A name longer than ``NAME_MAX`` bytes or a path of ``PATH_MAX`` bytes or
    more cannot exist: refusing it here gives a clear configuration error
    instead of ``ENAMETOOLONG`` from some later system call.
    """
    if "\0" in text or "\n" in text:
        raise ValueError("%s contains a NUL or newline" % quoted(text))
    size = len(text.encode("utf-8", "surrogateescape"))
    if size >= PATH_MAX:
        raise ValueError("%s is %d bytes long: a path has less than %d (PATH_MAX)"
                         % (quoted(text, 40), size, PATH_MAX))
    for name in text.split("/"):
        size = len(name.encode("utf-8", "surrogateescape"))
        if size > NAME_MAX:
            raise ValueError("%s: the name %s is %d bytes long, more than %d (NAME_MAX)"
                             % (quoted(text, 40), quoted(name, 20), size, NAME_MAX))


def absolute_path(text):
    """An absolute path, normalised; empty means "not set" (``None``)."""
    if text == "":
        return None
    path_limits(text)
    if not text.startswith("/"):
        raise ValueError("%s is not an absolute path" % quoted(text))
    parts = [p for p in text.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise ValueError("%s contains '..'" % quoted(text))
    return "/" + "/".join(parts)


def is_under(path, top):
    """``path`` is ``top`` or inside it (string-wise, both normalised)."""
    return path == top or top == "/" or path.startswith(top + "/")
