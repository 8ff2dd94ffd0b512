"""check_nullmailer: audit a send-only mail host from outside and from inside.

From outside it checks that SMTP ports are closed, or that an open port relays for
nobody and accepts no inbound mail.  From inside it reads the local MTA's exposure,
the domain it puts in envelope senders (and asks the callout engine of
:mod:`check_callout` whether receivers would accept it), and its queue.
"""

from check_callout import __version__

__all__ = ["__version__"]
