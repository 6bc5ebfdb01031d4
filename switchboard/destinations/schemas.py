from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


class KnowledgeBaseCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    workspace_id: uuid.UUID
    name: Name


class KnowledgeBaseUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name


class KnowledgeBaseRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    organization_id: uuid.UUID
    workspace_id: uuid.UUID
    name: str
    created_at: datetime
    updated_at: datetime


class AgentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    workspace_id: uuid.UUID
    name: Name
    knowledge_base_id: uuid.UUID | None = Field(
        default=None, description="A knowledge base of the same workspace; channels resolve it from here."
    )


class AgentUpdate(BaseModel):
    """Fields left out stay; `knowledge_base_id: null` unlinks the knowledge base."""

    model_config = ConfigDict(extra="forbid")

    name: Name | None = None
    knowledge_base_id: uuid.UUID | None = None


class AgentRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    organization_id: uuid.UUID
    workspace_id: uuid.UUID
    name: str
    knowledge_base_id: uuid.UUID | None
    created_at: datetime
    updated_at: datetime
