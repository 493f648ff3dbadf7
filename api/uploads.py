"""Photo uploads over HTTP: the parts of a multipart/form-data body (used by inspections and the public channel)."""

from __future__ import annotations

from email import policy
from email.parser import BytesParser

from data.errors import InvalidParameter


def multipart(request_body: bytes, content_type: str, fields: str, fields_zh: str) -> dict[str, tuple[str | None, bytes]]:
    """The parts of a multipart/form-data body by name: (file name, bytes). The standard library's MIME
    parser does it; no extra dependency. ``fields`` (``fields_zh``) says what the route expects, for the error."""
    if not content_type.startswith("multipart/form-data") or "boundary=" not in content_type:
        raise InvalidParameter("Content-Type", f"send multipart/form-data with {fields}",
                               f"请以 multipart/form-data 发送{fields_zh}")
    message = BytesParser(policy=policy.HTTP).parsebytes(
        b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + request_body)
    parts = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if name:
            parts[str(name)] = (part.get_filename(), part.get_payload(decode=True) or b"")
    return parts


def field(parts: dict[str, tuple[str | None, bytes]], name: str) -> str:
    """A text field of the parts, stripped ('' when absent)."""
    return parts.get(name, (None, b""))[1].decode("utf-8", "replace").strip()


def file_bytes(parts: dict[str, tuple[str | None, bytes]]) -> bytes:
    """The bytes of the ``file`` part; InvalidParameter when there is none."""
    if "file" not in parts:
        raise InvalidParameter("file", "is missing: send the photo as the multipart field 'file'",
                               "缺少照片：请把照片放在 multipart 字段 'file' 中发送")
    return parts["file"][1]
