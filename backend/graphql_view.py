"""The GraphQL endpoint: caller resolution, CSRF rules, cookies (DESIGN §5)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import aclosing
from typing import Any, cast

import orjson
from cross_web import FormData as AdapterForm
from cross_web import HTTPException, StarletteRequestAdapter
from graphql import FieldNode, GraphQLError, OperationDefinitionNode, parse
from graphql import OperationType as GraphQLOperationType
from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.formparsers import MultiPartException, MultiPartParser
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.types import Receive, Scope, Send
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse
from strawberry.schema.exceptions import CannotGetOperationTypeError
from strawberry.types.execution import ExecutionResult
from strawberry.types.graphql import OperationType

from backend.auth.viewer import ANONYMOUS, TOKEN_REFUSED, BadToken, resolve_viewer
from backend.config import settings
from backend.domain.enums import Role
from backend.logs import REQUEST_LOGGER
from backend.resolvers.context import Context, build_context
from backend.schema import direct
from backend.schema.limits import MAX_TOKENS, NUL_REFUSED, InternalError, may_introspect, without_value
from backend.schema.observability import tell_error_codes
from backend.upload_limit import counted

GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"
# Strawberry's refusals of a malformed request, reworded for the caller.
REASONS = {
    "Batching is not enabled": "Batching is off: send one operation per request, as a JSON object",
    "queries are not allowed when using GET": "Queries over GET are refused: use POST",
}


def _escapes_nul(body: bytes) -> bool:
    """Whether a JSON text holds the escape of U+0000: the letters u0000 after an odd number
    of backslashes (after an even number, the backslashes are text). A byte search first:
    almost no body holds these letters at all."""
    at = body.find(b"u0000")
    while at != -1:
        start = at
        while start > 0 and body[start - 1] == 0x5C:  # a backslash
            start -= 1
        if (at - start) % 2:
            return True
        at = body.find(b"u0000", at + 5)
    return False


def _within(value: object) -> Iterator[object]:
    """Every value inside a request's variables, keys included, the value itself first."""
    stack = [value]
    while stack:
        item = stack.pop()
        yield item
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def _not_json(word: str) -> object:
    """NaN, Infinity and -Infinity, which Python's parser takes and JSON does not have."""
    raise ValueError(f"{word} is not JSON")


# One decoder, made once, as json.loads keeps its default one (a parse_constant given to
# json.loads would make a decoder per call).
_JSON = json.JSONDecoder(parse_constant=_not_json)


# graphql-core coerces a list variable value by value (a few µs each): a 10 MB body of
# 870,000 section names held the event loop 2.3 s, before any resolver checked who asked.
# The longest list a request needs is an import's 5,000 items (refused above that by the
# import itself, with its reason); a list twice as long, or variables of more values than
# any operation takes, are refused before they are coerced.
MAX_LIST_VALUES = 10_000
MAX_VALUES = 500_000
TOO_MANY_VALUES = (
    f"The variables hold too many values: at most {MAX_LIST_VALUES:,} in a list, {MAX_VALUES:,} in all"
)
# A body shorter than this cannot hold a list over the bound (two bytes a value at least).
_LIST_BOUND_BYTES = 2 * MAX_LIST_VALUES


def _too_many_values(value: object) -> bool:
    """Whether the variables hold a list over MAX_LIST_VALUES, or over MAX_VALUES values in
    all (counted without recursion, and only in lists and objects)."""
    stack, seen = [value], 0
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            inner: Any = item.values()
        elif isinstance(item, list):
            if len(item) > MAX_LIST_VALUES:
                return True
            inner = item
        else:
            continue
        seen += len(inner)
        if seen > MAX_VALUES:
            return True
        stack.extend(each for each in inner if isinstance(each, dict | list))
    return False


def _holds_nul(value: object) -> bool:
    return any(isinstance(item, str) and "\x00" in item for item in _within(value))


# Lone surrogates: JSON may escape them (\ud800) but no UTF-8 text holds them, so neither
# database can store them (an internal error). orjson refuses them; the fallback parser does not.
SURROGATE_REFUSED = "Text may not contain a lone surrogate (U+D800 to U+DFFF): send valid Unicode"
_SURROGATE = re.compile("[\ud800-\udfff]")


def _refused_text(value: object) -> str | None:
    """Why a request's variables cannot be taken as text, or None: the NUL character, a lone
    surrogate, in any string or key."""
    for item in _within(value):
        if isinstance(item, str):
            if "\x00" in item:
                return NUL_REFUSED
            if not item.isascii() and _SURROGATE.search(item):
                return SURROGATE_REFUSED
    return None


# Batch mutations report a bad item in their payload, not as a request error (DESIGN §6):
# their items' text is checked one by one (resolvers/imports.py), not refused whole here.
BATCH_FIELDS = frozenset({"importCareHistory"})


def _reports_per_item(query: object, operation_name: object) -> bool:
    """Whether the operation the request runs is made of batch mutations only. Parsed only
    for a request whose variables hold text refused elsewhere: almost none. Parsed up to the
    token limit, as every parse of a request's document is: past it, the text is refused
    (not parsed whole, seconds per megabyte)."""
    if not isinstance(query, str):
        return False
    try:
        document = parse(query, max_tokens=MAX_TOKENS)
    except GraphQLError:
        return False
    operations = [
        d for d in document.definitions if isinstance(d, OperationDefinitionNode)
        and (not operation_name or (d.name is not None and d.name.value == operation_name))
    ]
    if len(operations) != 1 or operations[0].operation != GraphQLOperationType.MUTATION:
        return False
    return all(
        isinstance(node, FieldNode) and node.name.value in BATCH_FIELDS
        for node in operations[0].selection_set.selections
    )


def _wants_graphql_response(request: Request) -> bool:
    return GRAPHQL_RESPONSE_JSON in request.headers.get("accept", "")


SEVERAL_OPERATIONS = "Must provide operation name if query contains multiple operations."


def _unnamed_among_several(query: object, operation_name: object) -> bool:
    """Whether the document holds several operations and the request names none: the
    GraphQL spec's GetOperation refuses it, where strawberry would run the first one. Asked
    of a valid document only: a document with errors gets them, as validation comes first."""
    if operation_name is not None or not isinstance(query, str):
        return False
    try:
        document = parse(query, max_tokens=MAX_TOKENS)
    except GraphQLError:
        return False  # the pipeline reports it
    several = sum(isinstance(d, OperationDefinitionNode) for d in document.definitions) > 1
    return several and direct.prepare(query, None) is not None


OPERATION_NAME_NOT_TEXT = "The GraphQL operation's `operationName` must be a string or null, if provided."


def _chooses_no_operation(refusal: HTTPException) -> bool:
    """Whether a refusal is the GraphQL spec's GetOperation failing (several operations and no
    name, or a name that names none): a request error of a well-formed request, which
    GraphQL-over-HTTP answers 200 under application/json ("Operation cannot be determined")
    and 400 under application/graphql-response+json. Asked of refusals only."""
    return refusal.reason == SEVERAL_OPERATIONS or isinstance(refusal.__cause__, CannotGetOperationTypeError)


def _media_type(content_type: str) -> str:
    """A Content-Type's media type, without its parameters, in lower case: media type names
    are case-insensitive (RFC 9110, 8.3.1)."""
    return content_type.partition(";")[0].strip().lower()


# The media types strawberry's pipeline reads, which it compares case-sensitively.
_READ = ("application/json", "multipart/form-data")


def _media_type_named_lower(request: Request) -> Request:
    """The request, its JSON or multipart media type named in lower case for strawberry's
    pipeline, which compares it case-sensitively (`Application/JSON` was "Unsupported content
    type", though the prepared path read it as JSON, and so was `Multipart/Form-Data`). The
    parameters are kept as sent (a boundary's case matters). A multipart request has passed
    the checks that read its type in any case (X-DMP-Client, the upload limit). Off the
    common path: requests the prepared path did not answer, and a string test on one header."""
    content_type = request.headers.get("content-type", "")
    # The common path, left as it is: a type already in lower case, or JSON named so (only
    # at the start: a parameter, a boundary say, may hold `application/json`).
    if content_type.islower() or content_type.startswith("application/json"):
        return request
    media_type, sep, parameters = content_type.partition(";")
    named = media_type.strip().lower()
    if named not in _READ or named == media_type:  # not read, or already as strawberry reads it
        return request
    lowered = f"{named}{sep}{parameters}".encode("latin-1")
    request.scope["headers"] = [
        (name, lowered if name == b"content-type" else value) for name, value in request.scope["headers"]
    ]
    del request._headers  # read again from the scope
    return request


class _Refusal(JSONResponse):
    """A refusal the view answers itself, outside GraphQL execution: its code is told to
    the request log when it is sent."""

    code = "INTERNAL"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        state = scope.get("state")
        if isinstance(state, dict):
            state["error_codes"] = (self.code,)
        await super().__call__(scope, receive, send)


# A refusal's words quote what the request gave (an unknown `operationName`, whole: 50,000
# characters came back as they were sent): cut, with the length told.
REFUSAL_TEXT = 300


def _at_most(message: str) -> str:
    if len(message) <= REFUSAL_TEXT:
        return message
    return f"{message[:REFUSAL_TEXT]}… ({len(message):,} characters)"


def _error(status: int, code: str, message: str, media_type: str = "application/json") -> JSONResponse:
    refusal = _Refusal(
        {"errors": [{"message": message, "extensions": {"code": code}}]}, status,
        media_type=media_type,
    )
    refusal.code = code
    return refusal


def csrf_refusal(request: Request) -> JSONResponse | None:
    """Refuse state changes a foreign page could make with the patient's cookie."""
    if request.method != "POST":
        return None
    # In any case and after any whitespace, as the parsers read it (`Multipart/Form-Data` is an
    # upload too, and a type a page on another site may send without a preflight).
    if _media_type(request.headers.get("content-type", "")).startswith("multipart/") and not (
        request.headers.get("x-dmp-client")
    ):
        return _error(400, "BAD_USER_INPUT", "Uploads must carry the X-DMP-Client header")
    if request.headers.get("authorization"):
        return None
    if settings().session_cookie not in request.cookies:
        return None
    origin = request.headers.get("origin")
    if origin != settings().public_origin:
        return _error(403, "FORBIDDEN", "Cross-origin request refused")
    return None


UNFINISHED_MULTIPART = "The multipart body ends before its closing boundary: the request was not run"


class _WholeMultiPartParser(MultiPartParser):
    """Starlette's multipart parser, which also refuses a body that ends before its closing
    boundary (`--boundary--`). python-multipart does not check it (`finalize` is a no-op), and
    Starlette returned the parts that had ended: the file part the body cut off was spooled,
    in no form, and left open for the collector (a temporary file on disk past 1 MB), and the
    request was answered "File(s) missing in form data". Every file the parse opened is now
    closed before the refusal, as Starlette closes them when the parse fails."""

    _ended = False

    def on_end(self) -> None:  # python-multipart's callback, once past the closing boundary
        self._ended = True

    async def parse(self) -> FormData:
        form = await super().parse()
        if not self._ended:
            for file in self._files_to_close_on_error:  # every file part, ended or not
                file.close()
            raise MultiPartException(UNFINISHED_MULTIPART)
        return form


class _RequestAdapter(StarletteRequestAdapter):
    async def get_form_data(self) -> AdapterForm:
        """The multipart form strawberry reads (asked only for `multipart/form-data`), parsed
        as Request.form() does, with its bounds, but refused whole if it has no end. Kept as
        the request's form, which `Request.close` closes."""
        request = self._request
        if request._form is None:
            try:
                async with aclosing(request.stream()) as stream:
                    request._form = await _WholeMultiPartParser(request.headers, stream).parse()
            except MultiPartException as e:
                raise StarletteHTTPException(400, e.message) from e
        return AdapterForm(files=request._form, form=request._form)


EXPLORER_ROLES = frozenset({Role.SUPPORT, Role.PRACTITIONER, Role.INSURER})

# The body of a request by no one signed in: what sign-in, activation and a passkey's answer
# need, a few kilobytes. The 10 MB every caller had (for an insurer's import) let anyone have
# the service parse 10 MB of JSON for each request, 1.8 s of its one event loop each.
ANONYMOUS_BODY = 64 * 1024
ANONYMOUS_TOO_LARGE = "The request body is too large: at most 64 KB before signing in"


def _anonymous_body(scope: Scope, receive: Receive) -> tuple[JSONResponse | None, Receive]:
    """A POST by no one signed in: refused if it declares more than ANONYMOUS_BODY, counted as
    it is read if it declares no length (BodyTooLarge, which the HTTP layer answers 413)."""
    if scope["method"] != "POST":
        return None, receive
    declared = next((value for name, value in scope["headers"] if name == b"content-length"), None)
    if declared is None:
        return None, counted(receive, ANONYMOUS_BODY, ANONYMOUS_TOO_LARGE)
    if not declared.isdigit() or int(declared) > ANONYMOUS_BODY:
        return _error(413, "BAD_USER_INPUT", ANONYMOUS_TOO_LARGE), receive
    return None, receive


class GraphQLView(GraphQL[Context, None]):
    request_adapter_class = _RequestAdapter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            request = Request(scope, receive)
            refusal = csrf_refusal(request)
            if refusal is None:
                try:
                    # Both execution paths read it from here, and the request log names the
                    # caller from it (`logs.caller_of`): a refused token sets none.
                    scope.setdefault("state", {})["viewer"] = await resolve_viewer(request)
                except BadToken:
                    refusal = _error(401, "UNAUTHENTICATED", "Invalid or expired token")
                    refusal.headers["WWW-Authenticate"] = TOKEN_REFUSED
            if refusal is None and not scope["state"]["viewer"].authenticated:
                refusal, receive = _anonymous_body(scope, receive)
                request = Request(scope, receive)
            if refusal is not None:
                await refusal(scope, receive, send)
                return
            await (await self._respond(request))(scope, receive, send)
            return
        await super().__call__(scope, receive, send)

    async def _respond(self, request: Request) -> Response:
        """GraphQL-over-HTTP: JSON errors for malformed requests, and the
        application/graphql-response+json media type (400 on request errors) when asked."""
        wanted = GRAPHQL_RESPONSE_JSON if _wants_graphql_response(request) else "application/json"
        try:
            response = await self._run_prepared(request) or await self.run(_media_type_named_lower(request))
        except HTTPException as e:
            code = "NOT_FOUND" if e.status_code == 404 else "BAD_USER_INPUT"
            refusal = _error(e.status_code, code, _at_most(REASONS.get(e.reason, e.reason)), wanted)
            if wanted != GRAPHQL_RESPONSE_JSON and _chooses_no_operation(e):
                refusal.status_code = 200
            return refusal
        except StarletteHTTPException as e:  # Starlette's form parser: a malformed upload
            return _error(e.status_code, "BAD_USER_INPUT", str(e.detail), wanted)
        finally:
            # The spooled files of an upload no resolver took (a validation error, a refused
            # argument): closed now, not left open for the collector.
            await request.close()
        if wanted == GRAPHQL_RESPONSE_JSON and response.media_type == "application/json":
            response.headers["content-type"] = GRAPHQL_RESPONSE_JSON
            if getattr(request.state, "request_error", False):
                response.status_code = 400
        return response

    async def _run_prepared(self, request: Request) -> Response | None:
        """A plain JSON POST of a document accepted before, run without the extension
        pipeline (schema/direct.py); None for anything else, which `run` then handles."""
        # The media type, not a parameter: `text/plain; charset=application/json` is a type a
        # page on another site may send without a preflight (strawberry refuses it too).
        if request.method != "POST" or not request.headers.get(
            "content-type", ""
        ).lower().startswith("application/json") or self._streams(request):
            return None
        body = await request.body()
        try:
            data = orjson.loads(body)
        except ValueError:  # orjson.JSONDecodeError: `run` words the refusal
            return None
        if not isinstance(data, dict):
            return None
        query, variables = data.get("query"), data.get("variables")
        operation_name, extensions = data.get("operationName"), data.get("extensions")
        if _escapes_nul(body) and _holds_nul(variables) and not _reports_per_item(query, operation_name):
            raise HTTPException(400, NUL_REFUSED)
        if len(body) > _LIST_BOUND_BYTES and _too_many_values(variables):
            raise HTTPException(400, TOO_MANY_VALUES)
        if (
            not isinstance(query, str)
            or not isinstance(variables, dict | None)
            or not isinstance(operation_name, str | None)
            or not isinstance(extensions, dict | None)
        ):
            return None
        prepared = direct.prepare(query, operation_name)
        if prepared is None or prepared.operation_type not in (OperationType.QUERY, OperationType.MUTATION):
            return None
        viewer = getattr(request.state, "viewer", ANONYMOUS)
        if prepared.introspects and not may_introspect(viewer.role):
            return None
        sub_response = await self.get_sub_response(request)
        context = await self.get_context(request, response=sub_response)
        result = await direct.execute(prepared, context, variables, operation_name, extensions)
        if result is None:
            return None
        response_data = await self.process_result(request, result)
        if result.errors:
            self._handle_errors(result.errors, response_data)
        return self.create_response(response_data=response_data, sub_response=sub_response)

    def _streams(self, request: Request) -> bool:
        """Whether the request asks for a streamed response, as strawberry decides it
        (`_get_stream_transport_from_headers`), from the one Accept header."""
        accept = request.headers.get("accept", "")
        return any(transport.accepts(accept) for transport in self._stream_transport_map.values())

    def encode_json(self, data: object) -> bytes:
        try:
            return orjson.dumps(data)
        except TypeError:  # a value orjson does not take (an integer beyond 64 bits)
            return json.dumps(data, separators=(",", ":")).encode()

    def decode_json(self, data: str | bytes) -> object:
        """JSON text as RFC 8259 has it, as orjson reads it on the prepared path: UTF-8 (a BOM
        ignored), without NaN or Infinity. Python's parser, given bytes, guessed UTF-16 and
        UTF-32 and took those words. Strawberry's pipeline only: requests the prepared path
        did not answer."""
        return _JSON.decode(data.decode("utf-8-sig") if isinstance(data, bytes) else data)

    async def parse_http_body(self, request: Any) -> Any:
        try:
            data = await super().parse_http_body(request)
        except (AttributeError, TypeError) as e:
            # A body that is JSON but not an object (a string, a number, null).
            raise HTTPException(400, "The request body must be a JSON object") from e
        except json.JSONDecodeError:
            raise  # strawberry words it
        except (ValueError, RecursionError) as e:
            # Bytes that are not UTF-8, NaN or Infinity, a number of more digits than Python
            # reads (a ValueError, which was a 500), or arrays and objects nested beyond
            # Python's stack.
            raise HTTPException(400, "Unable to parse request body as JSON") from e
        for each in data if isinstance(data, list) else [data]:
            if not isinstance(each.operation_name, str | None):
                # Not a request GetOperation could answer (strawberry looked for an operation
                # named after the value's text): a malformed request, 400 whatever the Accept.
                raise HTTPException(400, OPERATION_NAME_NOT_TEXT)
            if _unnamed_among_several(each.query, each.operation_name):
                raise HTTPException(400, SEVERAL_OPERATIONS)
            if _too_many_values(each.variables):
                raise HTTPException(400, TOO_MANY_VALUES)
            refused = _refused_text(each.variables)
            if refused is not None and not _reports_per_item(each.query, each.operation_name):
                for item in _within(each.variables):
                    if isinstance(item, UploadFile):  # its spooled file, refused unread
                        await item.close()
                raise HTTPException(400, refused)
        return data

    async def process_result(self, request: Request, result: ExecutionResult) -> GraphQLHTTPResponse:
        for masked in result.errors or ():
            if isinstance(masked, InternalError):
                # The caller reads "Internal error" and the request's id: this line is what
                # support finds with it (the exception's type only: its message may quote data).
                REQUEST_LOGGER.error("internal error", extra={
                    "request_id": request.state.request_id, "error": masked.cause,
                })
        response = await super().process_result(request, result)
        errors = response.get("errors")
        if errors:
            codes = []
            for error in errors:
                # Parse errors bypass the masking extension: every error still carries a code.
                formatted = cast(dict[str, Any], error)
                if not formatted.get("path") and formatted.get("message", "").startswith("Syntax Error: "):
                    # A syntax error names the token it did not expect with its text: a string
                    # typed in the query ("found String 'Sérologie VIH positive'") is cut.
                    formatted["message"] = without_value(formatted["message"])
                extensions = formatted.setdefault("extensions", {})
                codes.append(
                    extensions.setdefault("code", "INTERNAL" if formatted.get("path") else "BAD_USER_INPUT")
                )
            # Both execution paths (schema/direct.py's and strawberry's) come through here.
            tell_error_codes(request, codes)
        if result.data is None and result.errors and all(
            e.path is None and (e.extensions or {}).get("code") != "INTERNAL" for e in result.errors
        ):
            # A request error (parse, validation, limits, variables): nothing was executed,
            # so the response has no data entry (GraphQL spec, "Request errors").
            response.pop("data", None)
            request.state.request_error = True
        return response

    async def get_context(self, request: Any, response: Any) -> Context:
        viewer = getattr(request.state, "viewer", ANONYMOUS)
        return build_context(request, response, viewer)

    async def render_graphql_ide(self, request: Request) -> Response:
        from backend.static import explorer_response

        viewer = getattr(request.state, "viewer", ANONYMOUS)
        if settings().production and viewer.role not in EXPLORER_ROLES:
            # In production the explorer is for signed-in support, practitioner and partner accounts.
            return HTMLResponse(
                "<!doctype html><html lang='fr'><head><meta charset='utf-8'><title>DMP</title></head>"
                "<body><main><h1>Accès réservé</h1><p>L'explorateur GraphQL est réservé au support et "
                "aux professionnels connectés. <a href='/'>Se connecter</a></p></main></body></html>",
                status_code=403,
            )
        return explorer_response()
