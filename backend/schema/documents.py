"""Documents (uploadDocument) and the record export (exportMyRecord) (DESIGN §2, §6)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, cast

import strawberry
from strawberry.file_uploads import Upload

from backend.auth import limits
from backend.domain import enums
from backend.resolvers import documents, export
from backend.resolvers.context import Info
from backend.schema.types import Entry, Section, to_entry

# Exports per patient account and hour: each reads the whole record and its documents (a large
# record's FHIR export takes a minute of the process's work); a patient exports rarely.
EXPORTS_PER_HOUR = 5
TOO_MANY_EXPORTS = f"At most {EXPORTS_PER_HOUR} exports an hour; try again later"

strawberry.enum(export.ExportFormat, description="JSON: the service's own format; FHIR: an R4 Bundle")
ExportFormat = export.ExportFormat


@strawberry.type
class UploadDocumentPayload:
    entry: Entry


@strawberry.type
class ExportPayload:
    file_name: str
    content_type: str
    content: str = strawberry.field(description="The export itself (UTF-8 text, files in base64)")


@strawberry.type
class DocumentsMutation:
    @strawberry.mutation(
        description=(
            "Attach a PDF, JPEG or PNG (at most 20 MB, recognised by its content) as a new entry, or, "
            "with supersedes, as the new version of an entry (how a document is corrected). "
            "The patient: DOCUMENTS or LAB_RESULTS of their own active record; a practitioner: "
            "where they may write, with the patient's ins. Send as a GraphQL multipart request "
            "with the X-DMP-Client header."
        )
    )
    async def upload_document(
        self,
        info: Info,
        file: Upload,
        title: str,
        section: Section = enums.Section.DOCUMENTS,
        ins: Annotated[str | None, strawberry.argument(description="The patient's INS")] = None,
        document_type: str | None = None,
        description: str | None = None,
        date: dt.date | None = None,
        supersedes: Annotated[
            strawberry.ID | None,
            strawberry.argument(
                description=(
                    "The entry this upload is a new version of (same record, section and author); "
                    "the old version keeps its own file"
                )
            ),
        ] = None,
    ) -> UploadDocumentPayload:
        entry, owner = await documents.upload_document(
            info.context,
            # Upload is declared as bytes; over ASGI the value is starlette's UploadFile.
            cast(documents.UploadedFile, file),
            documents.DocumentInput(
                section=section,
                ins=ins,
                title=title,
                document_type=document_type,
                description=description,
                date=date,
                supersedes=str(supersedes) if supersedes else None,
            ),
        )
        return UploadDocumentPayload(entry=to_entry(entry, show_masked_flag=owner))

    @strawberry.mutation(
        description="The whole record, for its owner (also when closed), as JSON or a FHIR R4 Bundle."
    )
    async def export_my_record(
        self, info: Info, format: ExportFormat = ExportFormat.JSON
    ) -> ExportPayload:
        viewer = info.context.viewer
        if viewer.authenticated and viewer.role == enums.Role.PATIENT:
            await limits.require(
                f"export:{viewer.account_id}", limits.utc_hour(), EXPORTS_PER_HOUR, TOO_MANY_EXPORTS,
                window=limits.HOUR,
            )
        result = await export.export_my_record(info.context, format)
        return ExportPayload(
            file_name=result.file_name, content_type=result.content_type, content=result.content
        )


QUERIES: tuple[type, ...] = ()
MUTATIONS: tuple[type, ...] = (DocumentsMutation,)
