"""Link shortening for outbound SMS: each link of a message becomes {public_base_url}/s/{code}.

Short links keep bodies inside fewer segments, avoid public shorteners that carriers block (see the
compliance precheck), and let us count clicks per message. The redirect endpoint needs no sign-in:
recipients click from their phones. Codes are 8 random base62 characters (47 bits), so they cannot
be enumerated; an unknown or malformed code is a plain 404.
"""

from __future__ import annotations

import re
import secrets
import string
import uuid
from datetime import UTC, datetime
from typing import Final
from urllib.parse import urlsplit

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from switchboard.core.permissions import Permission, Principal
from switchboard.models import LinkClick, ShortLink

CODE_LENGTH: Final = 8
_ALPHABET: Final = string.ascii_letters + string.digits
CODE_RE: Final = re.compile(rf"^[A-Za-z0-9]{{{CODE_LENGTH}}}$")
# A link runs to the next whitespace or quote/angle bracket; trailing punctuation ends the sentence.
_URL_RE: Final = re.compile(r"\bhttps?://[^\s<>\"']+", re.IGNORECASE)
_TRAILING: Final = ".,;:!?)]}"
MAX_URL_LENGTH: Final = 2048


def new_code() -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(CODE_LENGTH))


def short_url(base_url: str, code: str) -> str:
    return f"{base_url.rstrip('/')}/s/{code}"


def find_links(body: str) -> list[tuple[int, int, str]]:
    """(start, end, url) of every http(s) link, without the sentence's closing punctuation."""
    found = []
    for match in _URL_RE.finditer(body):
        url = match.group(0)
        while url and url[-1] in _TRAILING:
            # Keep a closing bracket that belongs to the URL, e.g. a Wikipedia "(disambiguation)".
            if url[-1] == ")" and url.count("(") >= url.count(")"):
                break
            url = url[:-1]
        parts = urlsplit(url)
        if parts.hostname and len(url) <= MAX_URL_LENGTH:
            found.append((match.start(), match.start() + len(url), url))
    return found


async def shorten_links(
    session: AsyncSession, body: str, message_ref: str, *, organization_id: uuid.UUID, base_url: str
) -> str:
    """`body` with every link replaced by a short link of this message (one per distinct URL)."""
    own_prefix = short_url(base_url, "")
    codes: dict[str, str] = {}
    out: list[str] = []
    position = 0
    for start, end, url in find_links(body):
        if url.startswith(own_prefix):
            continue  # already ours
        if url not in codes:
            link = ShortLink(
                id=uuid.uuid4(),
                organization_id=organization_id,
                code=new_code(),
                target_url=url,
                message_ref=message_ref,
            )
            session.add(link)
            codes[url] = link.code
        out.append(body[position:start])
        out.append(short_url(base_url, codes[url]))
        position = end
    out.append(body[position:])
    if codes:
        await session.flush()
    return "".join(out)


async def record_click(session: AsyncSession, code: str) -> str | None:
    """Count one click and return the target, or None for an unknown code."""
    if not CODE_RE.match(code):
        return None
    link = await session.scalar(select(ShortLink).where(ShortLink.code == code))
    if link is None:
        return None
    now = datetime.now(UTC)
    # One UPDATE ... SET clicks = clicks + 1, so concurrent clicks are all counted.
    await session.execute(
        update(ShortLink)
        .where(ShortLink.id == link.id)
        .values(clicks=ShortLink.clicks + 1, last_clicked_at=now)
        .execution_options(synchronize_session=False)
    )
    session.add(
        LinkClick(
            id=uuid.uuid4(), organization_id=link.organization_id, short_link_id=link.id, clicked_at=now
        )
    )
    return link.target_url


async def links_for_message(session: AsyncSession, principal: Principal, message_ref: str) -> list[ShortLink]:
    principal.require(Permission.CHANNELS_READ)
    stmt = select(ShortLink).where(ShortLink.message_ref == message_ref)
    if not principal.is_platform_admin:
        stmt = stmt.where(ShortLink.organization_id == principal.organization_id)
    rows = await session.scalars(stmt.order_by(ShortLink.created_at, ShortLink.code))
    return list(rows)
