"""A small network of real mail servers in network namespaces.

The lab is built from Debian packages (see install-packages.sh):

* every host is a network namespace ``cclab-<name>``; all of them hang on one
  bridge that itself lives in the namespace ``cclab-br``, so the host's own
  network is never touched;
* addresses come only from 192.0.2.0/24 and 2001:db8::/32, names end in ``.test``;
* ``cclab-dns`` runs dnsmasq with the lab zones; every namespace gets an
  ``/etc/netns/<ns>/resolv.conf`` (and ``hosts``) pointing at it;
* ``cclab-rx`` runs Exim 4 (unpacked privately) for ``rx.test`` with
  ``require verify = sender/callout`` in its RCPT ACL on port 25, and three more
  Exim daemons (each with its own spool, so its own callout cache) with
  ``callout=defer_ok``, ``callout=random`` and ``callout=postmaster`` on ports
  2525, 2526 and 2527;
* ``cclab-prx`` runs a Postfix receiver for ``prx.test`` with
  ``reject_unverified_sender`` (stock verification settings, TLS off);
* Postfix instances (``postfix -c DIR``): the MX hosts of the scenario domains
  (``cclab-mx``), the null mailer ``web1.good.test`` (``cclab-web1``), an open
  relay (``cclab-open``) and a closed relay (``cclab-closed``);
* a second open relay of another kind: Exim with ``relay_from_hosts = *``
  (``cclab-exrelay``);
* ``cclab-mon`` is the monitoring host: its address is in no relay's trusted
  networks.

Each Postfix instance keeps its configuration, queue and data directories
under the lab directory.  Postfix only accepts a non-default configuration
directory that the default instance lists in ``alternate_config_directories``;
the lab gives each Postfix namespace its own ``/etc/postfix`` through
``/etc/netns/<ns>/postfix`` (``ip netns exec`` bind-mounts it), so the host's
``/etc/postfix`` is neither read nor changed.

One module per part: ``base`` (constants, bounded commands, the lock), ``nodes``
(the hosts), ``dns`` (zones, dnsmasq), ``network`` (bridge, veths, readiness),
``scenarios`` (sender domains, live receivers), ``postfix`` and ``exim`` (the two
MTAs), ``mx_hosts``, ``postfix_receiver``, ``relays`` (hosts built from them),
``asking`` (SMTP questions to live receivers), ``plugins`` (running the checks in a
namespace), ``seed`` (the null mailer and its story), ``control`` (up, down),
``cli`` (``labctl``, ``python -m lab``); for the strict receivers: ``strict_scenarios``
(sending configurations and their DNS data), ``dns_faults`` (DNS servers that answer
SERVFAIL, never answer, or serve a CNAME loop), ``postfix_strict`` (cclab-psx),
``exim_strict`` (cclab-esx), ``strict_asking`` (a sending host's dialogue up to RCPT),
``sender`` (cclab-snd and its real Postfix null mailer). This module re-exports their names, so
``lab.NODES`` and ``from lab import SCENARIOS`` work as before.

Used by ``contrib/lab/labctl`` (by hand) and by ``tests/lab`` (pytest).
"""

# the names of every part, re-exported for lab.NAME and `from lab import NAME`
# ruff: noqa: F401
from __future__ import annotations

from .asking import (
    IN_PROGRESS,
    POLL_BUDGET,
    POLL_DELAY,
    POLL_TRIES,
    answer_of,
    ask,
    ask_exim,
    ask_receivers,
    poll_ask,
    smtp_ask,
)
from .base import (
    BRIDGE,
    BRIDGE_NS,
    CMD_TIMEOUT,
    DNS_V4,
    DNS_V6,
    ESX_V4,
    EXIM,
    EXIM_HEAVY,
    EXIM_HEAVY_PREFIX,
    EXIM_PREFIX,
    FAULTS_V4,
    HERE,
    LAB_DIR,
    LOCK_FILE,
    MON_V4,
    NETNS_ETC,
    NETNS_RUN,
    PREFIX,
    PRX_V4,
    PSX_V4,
    READY_TIMEOUT,
    RX_V4,
    SENDER_OCTETS,
    SERVFAIL_V4,
    SILENT_V4,
    STOP_TIMEOUT,
    LabError,
    LabLock,
    lab_argv,
    lab_env,
    lab_namespaces,
    ns_pids,
    nsrun,
    pid_alive,
    read_pid,
    sh,
    stop_pids,
    wait_until,
    write,
)
from .cli import (
    main,
)
from .control import (
    configure_postfixes,
    down,
    missing_prerequisites,
    status,
    up,
)
from .dns import (
    GOOD_SPF,
    HOST_RECORDS,
    MX_RECORDS,
    NULL_MX,
    REVERSE_ZONES,
    dnsmasq_conf,
    start_dns,
)
from .dns_faults import (
    LIFETIME,
    dns_faults_pid_file,
    loop_answer,
    reply,
    serve_dns_faults,
    start_dns_faults,
)
from .exim import (
    EXIM_VARIANTS,
    exim_conf,
    exim_config_path,
    exim_dir,
    exim_mainlog,
    exim_queue_count,
    exim_run,
    setup_exim,
    start_exim,
)
from .exim_strict import (
    STRICT_ACL,
    setup_strict_exim,
    start_strict_exim,
    strict_exim_conf,
    strict_exim_dir,
    strict_exim_mainlog,
)
from .mx_hosts import (
    MX_DOMAINS,
    configure_mx_hosts,
)
from .network import (
    RESOLV_CONF,
    build_network,
    wait_ready,
    wait_ready_in,
)
from .nodes import (
    KNOWN_USERS,
    NODES,
    Node,
)
from .plugins import (
    REPO,
    plugin_argv,
    plugin_env,
    run_plugin,
)
from .postfix import (
    MASTER_CF,
    POSTFIX_META,
    POSTFIX_NODES,
    postconf_set,
    postfix_dir,
    postfix_queue,
    setup_postfix,
    smtpd_line,
    start_postfix,
)
from .postfix_receiver import (
    configure_postfix_receiver,
)
from .postfix_strict import (
    POLICYD_SPF,
    STRICT_POSTFIX_MAIN,
    STRICT_RESTRICTIONS,
    configure_strict_postfix,
)
from .relays import (
    RELAYS,
    configure_relays,
)
from .scenarios import (
    RECEIVER,
    RECEIVERS,
    SCENARIOS,
    Receiver,
    Scenario,
)
from .seed import (
    SEED_RCPT,
    configure_null_mailer,
    seed_demo,
    seed_fix,
    seed_reset,
    seed_send,
    web1,
)
from .sender import (
    REAL_MAIL,
    REAL_MAIL_BUDGET,
    configure_sender,
    real_mail_results,
    real_mail_round,
    send_real_mail,
    transport_name,
)
from .strict_asking import (
    STRICT_RECEIVER,
    STRICT_RECEIVERS,
    StrictReceiver,
    ask_strict_receivers,
    sender_dialogue,
    strict_ask,
    strict_ask_here,
)
from .strict_scenarios import (
    SENDER_DOMAIN,
    SENDER_SPF,
    STRICT_RCPT_DOMAINS,
    STRICT_SCENARIO,
    STRICT_SCENARIOS,
    STRICT_SENDER_DOMAINS,
    StrictScenario,
    a_only,
    host,
    mx,
    ptr,
    strict_dns_lines,
    txt,
)
