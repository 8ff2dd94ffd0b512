"""The real send-only MTAs, each run in throwaway namespaces, against the plugin's readers.

``kinds`` (how each Debian package is set up and run), ``cases`` (the configurations,
written by subject in ``cases_*`` of ``case.Case`` rows),
``inside`` (one case, inside its namespace), ``sink`` (the capture smarthost),
``run`` (the driver and the table).
"""
