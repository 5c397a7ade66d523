"""Pure topology model: no Qt, no pyroute2."""
