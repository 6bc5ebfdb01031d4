"""Knowledge bases and agents: minimal CRUD with the tenancy and workspace rules the channels rely on.

An agent belongs to one workspace and links at most one knowledge base of that same workspace.
Agent-managed channels (SMS) never store a knowledge base: they resolve it from the agent.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from switchboard.core import audit
from switchboard.core.errors import Conflict, NotFound, field_error
from switchboard.core.permissions import Permission, Principal
from switchboard.destinations.schemas import (
    AgentCreate,
    AgentUpdate,
    KnowledgeBaseCreate,
    KnowledgeBaseUpdate,
)
from switchboard.models import Agent, KnowledgeBase, Workspace


def knowledge_bases_readable_by(principal: Principal) -> Select[KnowledgeBase]:
    stmt = select(KnowledgeBase)
    if not principal.is_platform_admin:
        stmt = stmt.where(KnowledgeBase.organization_id == principal.organization_id)
    return stmt


def agents_readable_by(principal: Principal) -> Select[Agent]:
    stmt = select(Agent)
    if not principal.is_platform_admin:
        stmt = stmt.where(Agent.organization_id == principal.organization_id)
    return stmt


def workspaces_readable_by(principal: Principal) -> Select[Workspace]:
    stmt = select(Workspace)
    if not principal.is_platform_admin:
        stmt = stmt.where(Workspace.organization_id == principal.organization_id)
    return stmt


def _kb_view(kb: KnowledgeBase) -> dict[str, Any]:
    return {"name": kb.name, "workspace_id": str(kb.workspace_id)}


def _agent_view(agent: Agent) -> dict[str, Any]:
    kb = str(agent.knowledge_base_id) if agent.knowledge_base_id else None
    return {"name": agent.name, "workspace_id": str(agent.workspace_id), "knowledge_base_id": kb}


class DestinationService:
    # --- lookups shared with the channels ---------------------------------------------------------

    async def workspace(
        self, session: AsyncSession, principal: Principal, workspace_id: uuid.UUID
    ) -> Workspace:
        ws = await session.scalar(workspaces_readable_by(principal).where(Workspace.id == workspace_id))
        if ws is None:
            raise NotFound("Workspace not found.")
        return ws

    async def resolve_knowledge_base(
        self, session: AsyncSession, agent: Agent | None
    ) -> KnowledgeBase | None:
        """The agent's knowledge base, if it still exists in the agent's own workspace."""
        if agent is None or agent.knowledge_base_id is None:
            return None
        kb = await session.get(KnowledgeBase, agent.knowledge_base_id)
        if kb is None or kb.workspace_id != agent.workspace_id:
            return None
        return kb

    # --- knowledge bases --------------------------------------------------------------------------

    async def list_knowledge_bases(
        self, session: AsyncSession, principal: Principal, workspace_id: uuid.UUID | None = None
    ) -> list[KnowledgeBase]:
        principal.require(Permission.CHANNELS_READ)
        stmt = knowledge_bases_readable_by(principal)
        if workspace_id is not None:
            stmt = stmt.where(KnowledgeBase.workspace_id == workspace_id)
        return list(await session.scalars(stmt.order_by(KnowledgeBase.name, KnowledgeBase.id)))

    async def get_knowledge_base(
        self, session: AsyncSession, principal: Principal, kb_id: uuid.UUID
    ) -> KnowledgeBase:
        principal.require(Permission.CHANNELS_READ)
        kb = await session.scalar(knowledge_bases_readable_by(principal).where(KnowledgeBase.id == kb_id))
        if kb is None:
            raise NotFound("Knowledge base not found.")
        return kb

    async def create_knowledge_base(
        self, session: AsyncSession, principal: Principal, data: KnowledgeBaseCreate
    ) -> KnowledgeBase:
        principal.require(Permission.ORG_ADMIN)
        ws = await self.workspace(session, principal, data.workspace_id)
        kb = KnowledgeBase(
            id=uuid.uuid4(), organization_id=ws.organization_id, workspace_id=ws.id, name=data.name
        )
        await self._insert(session, kb, "A knowledge base with this name already exists in the workspace.")
        await audit.record(
            session, principal, "knowledge_base.created", "knowledge_base", kb.id,
            organization_id=kb.organization_id, after=_kb_view(kb),
        )  # fmt: skip
        return kb

    async def update_knowledge_base(
        self, session: AsyncSession, principal: Principal, kb_id: uuid.UUID, data: KnowledgeBaseUpdate
    ) -> KnowledgeBase:
        principal.require(Permission.ORG_ADMIN)
        kb = await self.get_knowledge_base(session, principal, kb_id)
        before = _kb_view(kb)
        kb.name = data.name
        await self._flush(session, "A knowledge base with this name already exists in the workspace.")
        if _kb_view(kb) != before:
            await audit.record(
                session, principal, "knowledge_base.updated", "knowledge_base", kb.id,
                organization_id=kb.organization_id, before=before, after=_kb_view(kb),
            )  # fmt: skip
        return kb

    async def delete_knowledge_base(
        self, session: AsyncSession, principal: Principal, kb_id: uuid.UUID
    ) -> None:
        """Agents linked to it are unlinked (their channels show a degraded state until relinked)."""
        principal.require(Permission.ORG_ADMIN)
        kb = await self.get_knowledge_base(session, principal, kb_id)
        before = _kb_view(kb)
        linked = await session.scalars(select(Agent).where(Agent.knowledge_base_id == kb.id))
        for agent in linked:
            agent.knowledge_base_id = None
        await session.delete(kb)
        await session.flush()
        await audit.record(
            session, principal, "knowledge_base.deleted", "knowledge_base", kb.id,
            organization_id=kb.organization_id, before=before,
        )  # fmt: skip

    # --- agents -----------------------------------------------------------------------------------

    async def list_agents(
        self, session: AsyncSession, principal: Principal, workspace_id: uuid.UUID | None = None
    ) -> list[Agent]:
        principal.require(Permission.CHANNELS_READ)
        stmt = agents_readable_by(principal)
        if workspace_id is not None:
            stmt = stmt.where(Agent.workspace_id == workspace_id)
        return list(await session.scalars(stmt.order_by(Agent.name, Agent.id)))

    async def get_agent(self, session: AsyncSession, principal: Principal, agent_id: uuid.UUID) -> Agent:
        principal.require(Permission.CHANNELS_READ)
        agent = await session.scalar(agents_readable_by(principal).where(Agent.id == agent_id))
        if agent is None:
            raise NotFound("Agent not found.")
        return agent

    async def _check_kb(
        self, session: AsyncSession, principal: Principal, kb_id: uuid.UUID, workspace_id: uuid.UUID
    ) -> None:
        kb = await session.scalar(knowledge_bases_readable_by(principal).where(KnowledgeBase.id == kb_id))
        if kb is None:
            raise NotFound("Knowledge base not found.")
        if kb.workspace_id != workspace_id:
            raise field_error(
                "knowledge_base_id", "workspace_mismatch", "The knowledge base belongs to another workspace."
            )

    async def create_agent(self, session: AsyncSession, principal: Principal, data: AgentCreate) -> Agent:
        principal.require(Permission.ORG_ADMIN)
        ws = await self.workspace(session, principal, data.workspace_id)
        if data.knowledge_base_id is not None:
            await self._check_kb(session, principal, data.knowledge_base_id, ws.id)
        agent = Agent(
            id=uuid.uuid4(),
            organization_id=ws.organization_id,
            workspace_id=ws.id,
            knowledge_base_id=data.knowledge_base_id,
            name=data.name,
        )
        await self._insert(session, agent, "An agent with this name already exists in the workspace.")
        await audit.record(
            session, principal, "agent.created", "agent", agent.id,
            organization_id=agent.organization_id, after=_agent_view(agent),
        )  # fmt: skip
        return agent

    async def update_agent(
        self, session: AsyncSession, principal: Principal, agent_id: uuid.UUID, data: AgentUpdate
    ) -> Agent:
        principal.require(Permission.ORG_ADMIN)
        agent = await self.get_agent(session, principal, agent_id)
        before = _agent_view(agent)
        if data.name is not None:
            agent.name = data.name
        if "knowledge_base_id" in data.model_fields_set:
            if data.knowledge_base_id is not None:
                await self._check_kb(session, principal, data.knowledge_base_id, agent.workspace_id)
            agent.knowledge_base_id = data.knowledge_base_id
        await self._flush(session, "An agent with this name already exists in the workspace.")
        if _agent_view(agent) != before:
            await audit.record(
                session, principal, "agent.updated", "agent", agent.id,
                organization_id=agent.organization_id, before=before, after=_agent_view(agent),
            )  # fmt: skip
        return agent

    async def delete_agent(self, session: AsyncSession, principal: Principal, agent_id: uuid.UUID) -> None:
        """Channels using the agent keep their number and show "Assign in Agents" (SET NULL)."""
        principal.require(Permission.ORG_ADMIN)
        agent = await self.get_agent(session, principal, agent_id)
        before = _agent_view(agent)
        await session.delete(agent)
        await session.flush()
        await audit.record(
            session, principal, "agent.deleted", "agent", agent.id,
            organization_id=agent.organization_id, before=before,
        )  # fmt: skip

    # --- helpers ----------------------------------------------------------------------------------

    async def _insert(self, session: AsyncSession, row: Agent | KnowledgeBase, duplicate: str) -> None:
        session.add(row)
        await self._flush(session, duplicate)

    async def _flush(self, session: AsyncSession, duplicate: str) -> None:
        # A savepoint, so a duplicate name answers 409 and leaves the request's transaction usable.
        try:
            async with session.begin_nested():
                await session.flush()
        except IntegrityError as exc:
            raise Conflict(duplicate, code="duplicate_name") from exc


destinations = DestinationService()
