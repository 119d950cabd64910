"""The one typed context of a GraphQL request."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from functools import cached_property

import strawberry
from starlette.requests import Request
from starlette.responses import Response
from strawberry.dataloader import DataLoader

from backend.audit.collector import AccessLog
from backend.audit.writer import Actor
from backend.auth.contacts import OwnContacts, load_own_contacts
from backend.auth.viewer import Viewer
from backend.authz.decision import ViewerFacts
from backend.authz.loaders import Loaders


@dataclass
class Context:
    request: Request
    response: Response | None
    viewer: Viewer
    loaders: Loaders
    access_log: AccessLog

    @cached_property
    def own_contacts(self) -> DataLoader[uuid.UUID, OwnContacts | None]:
        """An account's own contacts, read once however many of `Me`'s fields ask for them;
        made when first asked for (a consultation never does)."""
        return DataLoader(load_fn=load_own_contacts)

    @property
    def facts(self) -> ViewerFacts:
        v = self.viewer
        return ViewerFacts(
            role=v.role,
            account_id=v.account_id,
            practitioner_id=v.practitioner_id,
            profession=v.profession,
            is_regulator=v.is_regulator,
        )


def build_context(request: Request, response: Response | None, viewer: Viewer) -> Context:
    actor = Actor(
        account_id=viewer.account_id,
        name=viewer.display_name or "anonymous",
        profession=str(viewer.profession) if viewer.profession else None,
        role=str(viewer.role) if viewer.role else "ANONYMOUS",
    )
    return Context(
        request=request,
        response=response,
        viewer=viewer,
        loaders=Loaders(viewer.practitioner_id),
        access_log=AccessLog(actor),
    )


Info = strawberry.Info[Context, None]
