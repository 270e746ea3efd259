"""marshmallow schemas at the edge: what the API and the page forms accept and return.

Input schemas check shape and types and reject unknown fields; the services check what
needs the database (unique names, known ids, role rules). Page forms load through the
same schemas, so a field is validated the same way whichever door it comes in by.

One module per feature, named like the feature's API and page modules; the field types
they share (bounded integers, text without NUL, moments within range) and ``load`` live
in ``app.schemas.fields``. Import from the feature's module: this package re-exports
nothing.
"""
