"""The helper's protocol, shared by the helper and its clients (docs/protocol.md).

Pure Python, standard library only, and cheap to import: the command line's fast
commands load nothing else. `errors`: the codes and the one error type; `wire`:
framing, encoding, decoding; `messages`: method and notification names, and params,
results and notifications as TypedDicts; `check`: does a value fit one of those types
(tests, debugging). Nothing is imported here, so each client loads only what it uses.
"""
