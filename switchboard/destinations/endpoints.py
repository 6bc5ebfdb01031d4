"""/rest/v1/knowledge_bases and /rest/v1/agents: thin handlers over the destination service."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from switchboard.core.deps import DB, CurrentPrincipal
from switchboard.core.errors import ErrorBody
from switchboard.destinations.schemas import (
    AgentCreate,
    AgentRead,
    AgentUpdate,
    KnowledgeBaseCreate,
    KnowledgeBaseRead,
    KnowledgeBaseUpdate,
)
from switchboard.destinations.service import destinations

router = APIRouter(
    prefix="/rest/v1",
    tags=["destinations"],
    responses={
        401: {"model": ErrorBody, "description": "Missing or invalid API key"},
        403: {"model": ErrorBody, "description": "Missing permission"},
        404: {"model": ErrorBody, "description": "Not found (or another tenant's)"},
        409: {"model": ErrorBody, "description": "The name is taken in this workspace"},
        422: {"model": ErrorBody, "description": "Invalid input: the field and the rule"},
    },
)

WorkspaceFilter = Annotated[uuid.UUID | None, Query(description="Only this workspace's")]


@router.get("/knowledge_bases", response_model=list[KnowledgeBaseRead])
async def list_knowledge_bases(
    session: DB, principal: CurrentPrincipal, workspace_id: WorkspaceFilter = None
) -> list[KnowledgeBaseRead]:
    """List knowledge bases."""
    rows = await destinations.list_knowledge_bases(session, principal, workspace_id)
    return [KnowledgeBaseRead.model_validate(r) for r in rows]


@router.post("/knowledge_bases", response_model=KnowledgeBaseRead, status_code=status.HTTP_201_CREATED)
async def create_knowledge_base(
    body: KnowledgeBaseCreate, session: DB, principal: CurrentPrincipal
) -> KnowledgeBaseRead:
    """Create a knowledge base in a workspace."""
    return KnowledgeBaseRead.model_validate(
        await destinations.create_knowledge_base(session, principal, body)
    )


@router.get("/knowledge_bases/{kb_id}", response_model=KnowledgeBaseRead)
async def get_knowledge_base(kb_id: uuid.UUID, session: DB, principal: CurrentPrincipal) -> KnowledgeBaseRead:
    """Get one knowledge base."""
    return KnowledgeBaseRead.model_validate(await destinations.get_knowledge_base(session, principal, kb_id))


@router.patch("/knowledge_bases/{kb_id}", response_model=KnowledgeBaseRead)
async def update_knowledge_base(
    kb_id: uuid.UUID, body: KnowledgeBaseUpdate, session: DB, principal: CurrentPrincipal
) -> KnowledgeBaseRead:
    """Rename a knowledge base."""
    kb = await destinations.update_knowledge_base(session, principal, kb_id, body)
    return KnowledgeBaseRead.model_validate(kb)


@router.delete("/knowledge_bases/{kb_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_knowledge_base(kb_id: uuid.UUID, session: DB, principal: CurrentPrincipal) -> Response:
    """Delete a knowledge base; agents linked to it are unlinked."""
    await destinations.delete_knowledge_base(session, principal, kb_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/agents", response_model=list[AgentRead])
async def list_agents(
    session: DB, principal: CurrentPrincipal, workspace_id: WorkspaceFilter = None
) -> list[AgentRead]:
    """List agents."""
    return [
        AgentRead.model_validate(a) for a in await destinations.list_agents(session, principal, workspace_id)
    ]


@router.post("/agents", response_model=AgentRead, status_code=status.HTTP_201_CREATED)
async def create_agent(body: AgentCreate, session: DB, principal: CurrentPrincipal) -> AgentRead:
    """Create an agent in a workspace, optionally linked to one of its knowledge bases."""
    return AgentRead.model_validate(await destinations.create_agent(session, principal, body))


@router.get("/agents/{agent_id}", response_model=AgentRead)
async def get_agent(agent_id: uuid.UUID, session: DB, principal: CurrentPrincipal) -> AgentRead:
    """Get one agent."""
    return AgentRead.model_validate(await destinations.get_agent(session, principal, agent_id))


@router.patch("/agents/{agent_id}", response_model=AgentRead)
async def update_agent(
    agent_id: uuid.UUID, body: AgentUpdate, session: DB, principal: CurrentPrincipal
) -> AgentRead:
    """Rename an agent or change (or unlink, with null) its knowledge base."""
    return AgentRead.model_validate(await destinations.update_agent(session, principal, agent_id, body))


@router.delete("/agents/{agent_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_agent(agent_id: uuid.UUID, session: DB, principal: CurrentPrincipal) -> Response:
    """Delete an agent; its channels keep their number and wait for another agent."""
    await destinations.delete_agent(session, principal, agent_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
