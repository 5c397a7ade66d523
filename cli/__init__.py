"""The `nstopo` command (design.md §2): `main.py` parses and dispatches; `online.py`
holds the commands that talk to the helper (protocol and socket only, so they start
in milliseconds); `offline.py` those that read files with the model (validate, plan
without a helper, export, gui)."""
