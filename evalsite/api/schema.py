"""The schema says what every operation may answer besides success: the one error shape."""

ERROR = {
    "type": "object",
    "properties": {
        "error": {"type": "string", "description": "what went wrong, in plain words"},
        "problems": {"type": "array", "items": {"type": "string"}, "description": "each problem"},
    },
    "required": ["error", "problems"],
}
ERRORS = {
    "400": "The request is not valid: the problems say where",
    "401": "No valid token (or session)",
    "403": "Your role in the project does not allow this",
    "404": "No such object in your projects (or no such page of a list)",
}
# Only operations that read a body can be sent one of the wrong type.
BODY_ERRORS = {"415": "The request body's Content-Type is not one this operation reads"}


def add_error_responses(result, generator, request, public):
    """drf-spectacular postprocessing hook: every operation documents the error answers."""
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR
    ref = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for path in result.get("paths", {}).values():
        for operation in path.values():
            errors = ERRORS | (BODY_ERRORS if "requestBody" in operation else {})
            for code, text in errors.items():
                operation["responses"].setdefault(code, {"description": text, "content": ref})
    return result
