"""Privileged helper, its client and the `nstopo` command line."""
