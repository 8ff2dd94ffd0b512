"""The plugin runtime shared by every plugin of the suite.

- :mod:`.states`   the one state vocabulary (OK..UNKNOWN) and the one ``worst()``;
- :mod:`.cli`      the argument parser, argument types and the option groups both plugins share;
- :mod:`.budget`   the run's deadline, derived once from ``-t``;
- :mod:`.errors`   the errors raised on the way to a result (usage errors, interruptions);
- :mod:`.stdout`   the one output channel: sanitised writes, the early UNKNOWN line;
- :mod:`.runner`   ``main()`` plumbing: signals, the last line of defence, nagiosplugin glue;
- :mod:`.output`   fitting the first line, perfdata numbers, small wording helpers;
- :mod:`.text`     sanitising every text that came from outside (the single choke point);
- :mod:`.parallel` jobs in threads, abandoned cleanly at the deadline;
- :mod:`.files`    reading configuration and queues: ``CouldNotRead`` is never "nothing there".

Nothing here imports ``typing`` or ``dataclasses`` at run time: start-up time matters
(see tests/test_startup.py).
"""
