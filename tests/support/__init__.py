"""The tests' one support layer, shared by the unit, hostile, lab and Icinga/NRPE tests
and by bench/:

- :mod:`.servers`       the scripted SMTP test server, aiosmtpd servers, the DNS zone server,
  free and closed ports;
- :mod:`.relay_servers` SMTP servers that behave like relays (open, closed, auth, TLS);
- :mod:`.hostile`       hostile servers and the monitoring contract every run must keep;
- :mod:`.output`        the one parser of plugin output;
- :mod:`.ci`            "skip here, fail under CI" for tests that need root and packages.
"""
