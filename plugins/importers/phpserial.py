"""A reader of PHP's serialize() format (WordPress meta such as `_product_attributes`): data only, never code."""

from __future__ import annotations


def loads(text: str):
    """The value serialised in text: str, int, float, bool, None, or dict (PHP arrays); ValueError when bad."""
    data = str(text).encode("utf-8")
    value, end = _value(data, 0)
    if end != len(data):
        raise ValueError(f"serialised data: unexpected bytes at {end}")
    return value


def _until(data: bytes, start: int, stop: bytes) -> tuple[bytes, int]:
    end = data.find(stop, start)
    if end < 0:
        raise ValueError(f"serialised data: {stop!r} expected after {start}")
    return data[start:end], end + len(stop)


def _value(data: bytes, at: int):
    kind = data[at:at + 2]
    if kind == b"N;":
        return None, at + 2
    if kind in (b"i:", b"d:", b"b:"):
        raw, end = _until(data, at + 2, b";")
        try:
            number = float(raw) if kind == b"d:" else int(raw)
        except ValueError:
            raise ValueError(f"serialised data: bad number {raw!r}") from None
        return (bool(number) if kind == b"b:" else number), end
    if kind == b"s:":
        size, start = _until(data, at + 2, b":")
        if not size.isdigit() or data[start:start + 1] != b'"':
            raise ValueError(f"serialised data: bad string at {at}")
        start += 1
        end = start + int(size)
        if data[end:end + 2] != b'";':
            raise ValueError(f"serialised data: string at {at} is not {int(size)} bytes long")
        return data[start:end].decode("utf-8", errors="replace"), end + 2
    if kind == b"a:":
        count, start = _until(data, at + 2, b":{")
        if not count.isdigit():
            raise ValueError(f"serialised data: bad array at {at}")
        result, position = {}, start
        for _ in range(int(count)):
            key, position = _value(data, position)
            if not isinstance(key, (int, str)):
                raise ValueError("serialised data: an array key must be a string or an integer")
            result[key], position = _value(data, position)
        if data[position:position + 1] != b"}":
            raise ValueError(f"serialised data: array at {at} is not closed")
        return result, position + 1
    raise ValueError(f"serialised data: unknown type {kind!r} at {at} (objects are never read)")
