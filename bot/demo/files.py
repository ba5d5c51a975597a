"""Files shared in the demo's release channels (the document `/readiness export` uploads
through files_upload_v2, which FakeSlack keeps), served to the page to read.

What a file holds is untrusted text: it is served only as `text/plain`, never sniffed as
anything else, in a sandbox that runs nothing, and only once it is shared in a channel the
page shows (an upload not yet completed, or shared elsewhere, is not found)."""

from __future__ import annotations

import re

from aiohttp import web

from bot.demo.people import channel
from bot.fake_slack import FakeSlack

HEADERS = {
    "Content-Type": "text/plain; charset=utf-8",
    "X-Content-Type-Options": "nosniff",
    # Opened on its own (a new tab), the file is a sandboxed page that may load nothing.
    "Content-Security-Policy": "default-src 'none'; sandbox",
    "Cache-Control": "no-cache",
}
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def shared_file(fake: FakeSlack, file_id: str) -> tuple[str, bytes] | None:
    """(filename, content) of a file shared in a release channel; run on the fake's loop."""
    upload = fake.workspace.files.get(file_id)
    if upload is None or not upload.completed or upload.data is None:
        return None
    if channel(upload.channel) is None:
        return None
    return upload.filename, upload.data


def file_response(found: tuple[str, bytes] | None) -> web.Response:
    if found is None:
        return web.Response(
            status=404, text="No such file in the demo's channels.\n", headers={**HEADERS}
        )
    name, data = found
    safe = _UNSAFE.sub("_", name).strip("._") or "file"
    return web.Response(
        body=data, headers={**HEADERS, "Content-Disposition": f'inline; filename="{safe}"'}
    )
