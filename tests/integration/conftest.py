"""A real helper in a sandbox for every integration test that asks for one."""

from helper_fixtures import helper, sandbox

__all__ = ["helper", "sandbox"]
