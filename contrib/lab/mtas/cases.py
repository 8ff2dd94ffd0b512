"""The MTA × configuration table: what each real MTA put in ``MAIL FROM``.

Every case is one ordinary null-mailer configuration of one MTA.  ``real`` is what
the real MTA sent (the domain of its ``MAIL FROM``, or ``nothing``), as seen in the
lab; ``helo``, ``route`` and ``source`` how it sent it (the HELO name, the smarthost
or direct delivery to the recipient's MX, and the client's source address, all seen
by the sink); ``notes`` say what the real MTA did that its documentation does not
say; ``differs`` says why the plugin's origin still differs (an expected failure).

Host names: the namespace is ``web1.example.test`` unless the case says otherwise,
``/etc/hosts`` maps ``web1`` to ``web1.example.test`` unless ``hosts=False``, and
``/etc/mailname`` is what the package's postinst writes (``hostname --fqdn``) unless
the case sets it (``mailname=``) or removes it (``mailname=ABSENT``).

The rows are written by subject: ``cases_daemons`` (Postfix, Exim, OpenSMTPD),
``cases_sendonly`` (nullmailer, ssmtp, dma), ``cases_msmtp``; ``case`` holds the
``Case`` they are made of.
"""

from __future__ import annotations

from mtas.case import ABSENT, DIRECT, FQDN, NOTHING, Case
from mtas.cases_daemons import EXIM, OPENSMTPD, POSTFIX
from mtas.cases_msmtp import MSMTP
from mtas.cases_sendonly import DMA, NULLMAILER, SSMTP

__all__ = ["ABSENT", "CASES", "DIRECT", "FQDN", "NOTHING", "Case"]

CASES: list[Case] = POSTFIX + EXIM + NULLMAILER + SSMTP + MSMTP + DMA + OPENSMTPD
