"""The suite's network clients: :mod:`.dns` (MX routes through dnspython, bounded by
the deadline), :mod:`.smtp` (the only SMTP client; never ``DATA``) and :mod:`.tls`
(certificate facts for the long output)."""
