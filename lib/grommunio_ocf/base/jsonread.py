"""A small, strict JSON reader for the tiny documents a status endpoint answers.

Not the ``json`` module: importing it costs a monitor about 7 ms (it loads
``re``), more than the admin-api check itself, and its recursion would have
to be guarded against 30,000-deep documents anyway.  This reader takes RFC
8259 JSON -- objects, arrays, strings with every escape, numbers, true,
false, null -- with a nesting limit and a limit on a number's digits, and
raises ``JSONError`` (a ``ValueError``) with the position of the first
thing it does not take.
"""

DEPTH_LIMIT = 32
NUMBER_LIMIT = 64  # characters of one number: more is no status document's
_WHITESPACE = " \t\n\r"
_ESCAPES = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}
_NUMBER_CHARS = frozenset("0123456789+-.eE")
_LITERALS = (("true", True), ("false", False), ("null", None))


class JSONError(ValueError):
    """Not JSON (or deeper, longer than allowed); ``str()`` says what and where."""


class TooDeep(JSONError):
    """Nested deeper than the limit."""


def loads(text, depth_limit=DEPTH_LIMIT):
    """The value of the JSON document ``text``."""
    reader = _Reader(text, depth_limit)
    value = reader.value(0)
    reader.skip()
    if reader.pos != len(text):
        raise reader.error("extra data after the document")
    return value


def brief(value, limit=40):
    """A short JSON-like rendering of a value for a message (``false``, ``"down"``, ``[...]``)."""
    for word, literal in _LITERALS:
        if value is literal:
            return word
    if isinstance(value, str):
        text = '"%s"' % value.replace("\\", "\\\\").replace('"', '\\"')
    elif isinstance(value, (int, float)):
        text = repr(value)
    else:
        text = "[...]" if isinstance(value, list) else "{...}"
    return text if len(text) <= limit else text[:limit - 3] + "..."


class _Reader:
    __slots__ = ("text", "pos", "depth_limit")

    def __init__(self, text, depth_limit):
        self.text = text
        self.pos = 0
        self.depth_limit = depth_limit

    def error(self, what, kind=JSONError):
        return kind("%s at character %d" % (what, self.pos))

    def skip(self):
        text, pos = self.text, self.pos
        while pos < len(text) and text[pos] in _WHITESPACE:
            pos += 1
        self.pos = pos

    def value(self, depth):
        self.skip()
        if self.pos >= len(self.text):
            raise self.error("a value expected")
        char = self.text[self.pos]
        if char in "{[":
            if depth >= self.depth_limit:
                raise self.error("nested deeper than %d levels" % self.depth_limit, TooDeep)
            return self.object(depth + 1) if char == "{" else self.array(depth + 1)
        if char == '"':
            return self.string()
        if char == "-" or char.isdigit():
            return self.number()
        for word, literal in _LITERALS:
            if self.text.startswith(word, self.pos):
                self.pos += len(word)
                return literal
        raise self.error("unexpected %r" % char)

    def _items(self, close, item):
        """Comma-separated ``item()`` calls up to ``close`` (the opening char is at pos)."""
        self.pos += 1
        self.skip()
        if self.text.startswith(close, self.pos):
            self.pos += 1
            return
        while True:
            item()
            self.skip()
            if self.text.startswith(close, self.pos):
                self.pos += 1
                return
            if not self.text.startswith(",", self.pos):
                raise self.error("',' or %r expected" % close)
            self.pos += 1

    def object(self, depth):
        result = {}

        def member():
            self.skip()
            if not self.text.startswith('"', self.pos):
                raise self.error("a member name expected")
            name = self.string()
            self.skip()
            if not self.text.startswith(":", self.pos):
                raise self.error("':' expected")
            self.pos += 1
            result[name] = self.value(depth)

        self._items("}", member)
        return result

    def array(self, depth):
        result = []
        self._items("]", lambda: result.append(self.value(depth)))
        return result

    def string(self):
        text, pos = self.text, self.pos + 1
        out = []
        while True:
            end = pos
            while end < len(text) and text[end] not in '"\\' and text[end] >= " ":
                end += 1
            out.append(text[pos:end])
            if end >= len(text):
                self.pos = end
                raise self.error("unterminated string")
            char = text[end]
            if char == '"':
                self.pos = end + 1
                return "".join(out)
            if char != "\\":
                self.pos = end
                raise self.error("a control character in a string")
            escape = text[end + 1:end + 2]
            if escape == "u":
                out.append(self._unicode(end))
                pos = self.pos
            elif escape in _ESCAPES and escape:
                out.append(_ESCAPES[escape])
                pos = end + 2
            else:
                self.pos = end
                raise self.error("a bad escape in a string")

    def _unicode(self, start):
        """``\\uXXXX`` at ``start`` (a surrogate pair joined); sets pos after it."""
        code = self._hex4(start + 2)
        if 0xD800 <= code < 0xDC00 and self.text.startswith("\\u", start + 6):
            low = self._hex4(start + 8)
            if 0xDC00 <= low < 0xE000:
                self.pos = start + 12
                return chr(0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00))
        self.pos = start + 6
        return chr(code)

    def _hex4(self, start):
        digits = self.text[start:start + 4]
        if len(digits) != 4 or not all(c in "0123456789abcdefABCDEF" for c in digits):
            self.pos = start
            raise self.error("a bad \\u escape")
        return int(digits, 16)

    def number(self):
        text, start = self.text, self.pos
        end = start
        while end < len(text) and text[end] in _NUMBER_CHARS:
            end += 1
            if end - start > NUMBER_LIMIT:
                raise self.error("a number longer than %d characters" % NUMBER_LIMIT)
        word = text[start:end]
        digits = word[1:] if word.startswith("-") else word
        mantissa, e, exponent = digits.replace("E", "e").partition("e")
        whole, dot, fraction = mantissa.partition(".")
        if (not whole.isdigit() or (len(whole) > 1 and whole[0] == "0")
                or (dot and not fraction.isdigit())
                or (e and not exponent[exponent[:1] in ("+", "-"):].isdigit())):
            raise self.error("a malformed number")
        self.pos = end
        return float(word) if dot or e else int(word)
