"""Federated Secure Computing's module layout: `federatedsecure.client.Api`.

A script written for that client runs against Tessera with one line changed:

    import federatedsecure.client            # before
    import tessera as federatedsecure        # after: federatedsecure.client.Api(url) is this Api
"""

from .api import Api, Representation

__all__ = ["Api", "Representation"]
