"""The OpenAPI 3 document of /api/, built from the same choices the code validates with."""

from __future__ import annotations

from functools import lru_cache

from tickets.models import CHANNELS, DEMAND_TYPES, SATISFACTION_RESULTS, STATUSES
from tickets.queries import MAX_PER_PAGE
from tickets.validation import (
    CALLER_NUMBER_PATTERN,
    CREATE_FIELDS,
    DISPATCH_FIELDS,
    RESOLVE_FIELDS,
)
from tickets.yamlfile import PACKAGE_DIR, load_yaml

NUMBER_PATTERN = "^[0-9]{14}$"
# Text with at least one visible character and no NUL (what the validator accepts).
TEXT_PATTERN = "^[^\\x00]*[^\\s\\x00][^\\x00]*$"
OPTIONAL_TEXT_PATTERN = "^[^\\x00]*$"


def _nullable(schema: dict) -> dict:
    if "enum" in schema:  # OpenAPI 3.0: null must be listed for a nullable enum
        schema = {**schema, "enum": [*schema["enum"], None]}
    return {**schema, "nullable": True}


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict, description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _body_schema(spec: dict, overrides: dict) -> dict:
    props = {}
    for name, (max_len, required) in spec.items():
        base = {
            "type": "string",
            "maxLength": max_len,
            "pattern": TEXT_PATTERN if required else OPTIONAL_TEXT_PATTERN,
        }
        base.update(overrides.get(name, {}))
        props[name] = base if required else _nullable(base)
    schema = {"type": "object", "additionalProperties": False, "properties": props}
    required = [n for n, (_, req) in spec.items() if req]
    if required:  # OpenAPI 3.0: `required` may not be an empty list
        schema["required"] = required
    return schema


ERRORS = {
    "400": _json(_ref("ValidationError"), "Invalid input, with a message per field"),
    "401": _json(_ref("Error"), "Missing or unknown bearer token"),
    "403": _json(_ref("Error"), "The token's role may not do this"),
}
NOT_FOUND = {"404": _json(_ref("Error"), "No such ticket (or not the caller's department)")}
CONFLICT = {"409": _json(_ref("Error"), "Not allowed from the ticket's current status")}
NUMBER_PARAM = {
    "name": "number",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "pattern": NUMBER_PATTERN},
    "description": "Ticket number: local date + 6-digit daily sequence",
}


def _filter_params() -> list[dict]:
    def q(name, schema, description):
        return {
            "name": name,
            "in": "query",
            "required": False,
            "schema": schema,
            "description": description,
        }

    text = {"type": "string", "maxLength": 40}
    return [
        {
            **q(
                "status",
                {"type": "array", "items": {"type": "string", "enum": list(STATUSES)}},
                "Statuses (repeat the parameter for several)",
            ),
            "style": "form",
            "explode": True,
        },
        q("channel", {"type": "string", "enum": list(CHANNELS)}, "Channel"),
        q("demand_type", {"type": "string", "enum": list(DEMAND_TYPES)}, "Demand type"),
        q("topic", text, "Topic code"),
        q("department", text, "Department code"),
        q("district", text, "District"),
        q("date_from", {"type": "string", "format": "date"}, "Opened on or after"),
        q("date_to", {"type": "string", "format": "date"}, "Opened on or before"),
        q("overdue", {"type": "string", "enum": ["true", "false"]}, "Open and past due"),
        q(
            "q",
            {"type": "string", "maxLength": 200, "pattern": OPTIONAL_TEXT_PATTERN},
            "Ticket number, or text in description, transcript or location",
        ),
    ]


def _schemas() -> dict:
    taxonomy = load_yaml(PACKAGE_DIR / "data" / "taxonomy.yaml")
    topics = [t["code"] for t in taxonomy["topics"]]
    departments = [d["code"] for d in taxonomy["departments"]]
    s, n = {"type": "string"}, _nullable({"type": "string"})
    ticket = {
        "type": "object",
        "properties": {
            "number": {"type": "string", "pattern": NUMBER_PATTERN},
            "opened_on": {"type": "string", "format": "date"},
            "channel": {"type": "string", "enum": list(CHANNELS)},
            "caller_number": n,
            "demand_type": n,
            "topic": n,
            "district": n,
            "location": n,
            "description": n,
            "summary": n,
            "transcript": n,
            "transcript_confidence": _nullable({"type": "number"}),
            "has_recording": {"type": "boolean"},
            "status": {"type": "string", "enum": list(STATUSES)},
            "department": n,
            "due_date": _nullable({"type": "string", "format": "date"}),
            "overdue": {"type": "boolean"},
            "reply": n,
            "resolution_count": {"type": "integer"},
            "satisfaction": _nullable({"type": "string", "enum": list(SATISFACTION_RESULTS)}),
            "suggested": {"type": "object"},
            "created_at": {"type": "string", "format": "date-time"},
            "resolved_at": _nullable({"type": "string", "format": "date-time"}),
            "closed_at": _nullable({"type": "string", "format": "date-time"}),
            "events": {"type": "array", "items": {"type": "object"}},
        },
        "required": ["number", "channel", "status", "opened_on"],
    }
    article = {
        "type": "object",
        "required": ["key", "question", "answer"],
        "properties": {
            "key": s,
            "question": s,
            "answer": s,
            "keywords": {"type": "array", "items": s},
            "topic": n,
            "department": n,
            "score": {"type": "number"},
            "valid_from": _nullable({"type": "string", "format": "date"}),
            "valid_until": _nullable({"type": "string", "format": "date"}),
            "retired": {"type": "boolean"},
            "version": {"type": "integer"},
            "updated_by": n,
            "used_by": {
                "type": "array",
                "items": s,
                "description": "Nodes of the published flow that read the article",
            },
        },
    }
    # Validity dates (valid_from, valid_until: YYYY-MM-DD, the end not before the start) are
    # accepted too; they are left out here because a schema cannot say "not before".
    article_fields = {
        "question": {"type": "string", "maxLength": 200, "pattern": TEXT_PATTERN},
        "answer": {"type": "string", "maxLength": 2000, "pattern": TEXT_PATTERN},
        "keywords": {
            "type": "array",
            "maxItems": 20,
            "items": {"type": "string", "maxLength": 20, "pattern": "^[^\\x00]*$"},
        },
        "topic": _nullable({"type": "string", "enum": topics}),
        "department": _nullable({"type": "string", "enum": departments}),
    }
    calendar_day = {
        "type": "object",
        "required": ["date", "workday", "source"],
        "properties": {
            "date": {"type": "string", "format": "date"},
            "workday": {"type": "boolean"},
            "name": n,
            "source": {
                "type": "string",
                "enum": ["override", "chinese_calendar", "holidays", "weekday"],
            },
            "adjusted": {"type": "boolean"},
        },
    }
    return {
        "Ticket": ticket,
        "TicketCreate": _body_schema(
            CREATE_FIELDS,
            {
                "channel": {"enum": list(CHANNELS)},
                "demand_type": {"enum": list(DEMAND_TYPES)},
                "topic": {"enum": topics},
                "caller_number": {
                    "pattern": CALLER_NUMBER_PATTERN,
                    "description": "Mobile or landline with area code; stored as E.164",
                },
            },
        ),
        "Dispatch": _body_schema(
            DISPATCH_FIELDS,
            {
                "department": {
                    "enum": departments,
                    "description": "Department code; default: the routing table's",
                }
            },
        ),
        "Resolve": _body_schema(
            RESOLVE_FIELDS, {"reply": {"description": "The department's reply"}}
        ),
        "TicketPage": {
            "type": "object",
            "required": ["items", "page", "per_page", "total"],
            "properties": {
                "items": {"type": "array", "items": _ref("Ticket")},
                "page": {"type": "integer"},
                "per_page": {"type": "integer"},
                "total": {
                    "type": "integer",
                    "description": "Matching tickets, counted up to 10000",
                },
                "total_exact": {
                    "type": "boolean",
                    "description": "False when there are more than `total`",
                },
                "pages": {"type": "integer"},
            },
        },
        "Article": article,
        "ArticleCreate": {
            "type": "object",
            "additionalProperties": False,
            "required": ["key", "question", "answer"],
            "properties": {
                "key": {"type": "string", "pattern": "^[a-z0-9][a-z0-9-]{1,79}$"},
                **article_fields,
            },
        },
        "ArticleUpdate": {
            "type": "object",
            "additionalProperties": False,
            "properties": article_fields,
        },
        "CalendarDay": calendar_day,
        "CalendarYear": {
            "type": "object",
            "required": ["year", "arrangement_known", "days"],
            "properties": {
                "year": {"type": "integer"},
                "arrangement_known": {
                    "type": "boolean",
                    "description": "Whether the year's adjusted workdays (调休) are known",
                },
                "days": {"type": "array", "items": _ref("CalendarDay")},
            },
        },
        "CalendarEntry": {
            "type": "object",
            "additionalProperties": False,
            "required": ["kind"],
            "properties": {
                "kind": {"type": "string", "enum": ["holiday", "workday"]},
                "name": _nullable({"type": "string", "maxLength": 40}),
            },
        },
        "ArticleList": {
            "type": "object",
            "properties": {"items": {"type": "array", "items": _ref("Article")}},
        },
        "Error": {"type": "object", "required": ["error"], "properties": {"error": s}},
        "ValidationError": {
            "type": "object",
            "required": ["error", "fields"],
            "properties": {"error": s, "fields": {"type": "object", "additionalProperties": s}},
        },
    }


def _paths() -> dict:
    paging = [
        {
            "name": "page",
            "in": "query",
            "required": False,
            "schema": {"type": "integer", "minimum": 1, "maximum": 1_000_000},
        },
        {
            "name": "per_page",
            "in": "query",
            "required": False,
            "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE},
        },
    ]
    body = {"required": True, "content": {"application/json": {"schema": None}}}

    def with_body(name):
        return {**body, "content": {"application/json": {"schema": _ref(name)}}}

    return {
        "/api/tickets": {
            "post": {
                "summary": "Create a ticket (web, WeChat and other channels)",
                "operationId": "createTicket",
                "requestBody": with_body("TicketCreate"),
                "responses": {
                    "201": _json(_ref("Ticket"), "Created"),
                    "200": _json(
                        _ref("Ticket"), "Same idempotency_key: the ticket created earlier"
                    ),
                    **ERRORS,
                },
            },
            "get": {
                "summary": "List tickets with filters and paging",
                "operationId": "listTickets",
                "parameters": _filter_params() + paging,
                "responses": {"200": _json(_ref("TicketPage"), "A page of tickets"), **ERRORS},
            },
        },
        "/api/tickets.csv": {
            "get": {
                "summary": "Export the filtered tickets as CSV",
                "operationId": "exportTickets",
                "parameters": _filter_params(),
                "responses": {
                    "200": {
                        "description": "CSV (UTF-8 with BOM)",
                        "content": {"text/csv": {"schema": {"type": "string"}}},
                    },
                    **ERRORS,
                },
            }
        },
        "/api/tickets/{number}": {
            "get": {
                "summary": "A ticket with its audit trail",
                "operationId": "getTicket",
                "parameters": [NUMBER_PARAM],
                "responses": {"200": _json(_ref("Ticket"), "The ticket"), **ERRORS, **NOT_FOUND},
            }
        },
        "/api/tickets/{number}/dispatch": {
            "post": {
                "summary": "Dispatch or reassign to a department's inbox",
                "operationId": "dispatchTicket",
                "parameters": [NUMBER_PARAM],
                "requestBody": with_body("Dispatch"),
                "responses": {
                    "200": _json(_ref("Ticket"), "Dispatched"),
                    **ERRORS,
                    **NOT_FOUND,
                    **CONFLICT,
                },
            }
        },
        "/api/tickets/{number}/resolve": {
            "post": {
                "summary": "Record the department's reply; schedules the satisfaction callback",
                "operationId": "resolveTicket",
                "parameters": [NUMBER_PARAM],
                "requestBody": with_body("Resolve"),
                "responses": {
                    "200": _json(_ref("Ticket"), "Resolved"),
                    **ERRORS,
                    **NOT_FOUND,
                    **CONFLICT,
                },
            }
        },
        "/api/kb": {
            "get": {
                "summary": "Search the knowledge base",
                "operationId": "searchKb",
                "parameters": [
                    {
                        "name": "q",
                        "in": "query",
                        "required": False,
                        "schema": {
                            "type": "string",
                            "maxLength": 200,
                            "pattern": OPTIONAL_TEXT_PATTERN,
                        },
                    },
                    {
                        "name": "topic",
                        "in": "query",
                        "required": False,
                        "schema": {"type": "string"},
                    },
                ],
                "responses": {
                    "200": _json(_ref("ArticleList"), "Matching articles, best first"),
                    **ERRORS,
                },
            },
            "post": {
                "summary": "Create an article (supervisors; version 1). Also accepted: "
                "valid_from and valid_until (YYYY-MM-DD), the dates the phone reads it",
                "operationId": "createKbArticle",
                "requestBody": with_body("ArticleCreate"),
                "responses": {
                    "201": _json(_ref("Article"), "Created"),
                    **ERRORS,
                    "409": _json(_ref("Error"), "An article with this key exists"),
                },
            },
        },
        "/api/kb/{key}": {
            "get": {
                "summary": "One knowledge-base article",
                "operationId": "getKbArticle",
                "parameters": [
                    {"name": "key", "in": "path", "required": True, "schema": {"type": "string"}}
                ],
                "responses": {
                    "200": _json(_ref("Article"), "The article"),
                    **ERRORS,
                    "404": _json(_ref("Error"), "No such article"),
                },
            },
            "put": {
                "summary": "Change some fields of an article (supervisors; a new version)",
                "operationId": "updateKbArticle",
                "parameters": [KEY_PARAM],
                "requestBody": with_body("ArticleUpdate"),
                "responses": {
                    "200": _json(_ref("Article"), "The article as saved"),
                    **ERRORS,
                    "404": _json(_ref("Error"), "No such article"),
                },
            },
            "delete": {
                "summary": "Retire an article (supervisors); refused while the flow reads it",
                "operationId": "retireKbArticle",
                "parameters": [KEY_PARAM],
                "responses": {
                    "200": _json(_ref("Article"), "Retired (kept with its versions)"),
                    **ERRORS,
                    "404": _json(_ref("Error"), "No such article"),
                    "409": _json(_ref("Error"), "A node of the published flow reads it"),
                },
            },
        },
        "/api/calendar/{year}": {
            "get": {
                "summary": "A year's holidays, adjusted workdays and the office's entries",
                "operationId": "getCalendarYear",
                "parameters": [
                    {
                        "name": "year",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "integer", "minimum": 2000, "maximum": 2100},
                    }
                ],
                "responses": {"200": _json(_ref("CalendarYear"), "The year"), **ERRORS},
            }
        },
        "/api/calendar/{date}": {
            "put": {
                "summary": "Declare a date a holiday or a workday (supervisors)",
                "operationId": "setCalendarDay",
                "parameters": [DATE_PARAM],
                "requestBody": with_body("CalendarEntry"),
                "responses": {"200": _json(_ref("CalendarDay"), "The day as now known"), **ERRORS},
            },
            "delete": {
                "summary": "Remove the office's entry for a date (supervisors)",
                "operationId": "clearCalendarDay",
                "parameters": [DATE_PARAM],
                "responses": {
                    "204": {"description": "Removed"},
                    **ERRORS,
                    "404": _json(_ref("Error"), "No entry for the date"),
                },
            },
        },
        "/api/openapi.json": {
            "get": {
                "summary": "This document",
                "operationId": "openapi",
                "responses": {
                    "200": {
                        "description": "OpenAPI 3 document",
                        "content": {"application/json": {"schema": {"type": "object"}}},
                    },
                    **ERRORS,
                },
            }
        },
    }


KEY_PARAM = {"name": "key", "in": "path", "required": True, "schema": {"type": "string"}}
DATE_PARAM = {
    "name": "date",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "format": "date"},
}


@lru_cache(maxsize=1)
def document() -> dict:
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "12345 hotline tickets API",
            "version": "1",
            "description": "Tickets, knowledge base, holiday calendar and exports. Every route needs "
            "`Authorization: Bearer <token>`.",
        },
        "servers": [{"url": "/"}],
        "security": [{"bearerAuth": []}],
        "components": {
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}},
            "schemas": _schemas(),
        },
        "paths": _paths(),
    }
