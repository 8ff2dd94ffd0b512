"""Text that every Icinga 2 configuration of the tests starts with: the plugin
directories, the node and zone names, and the ITL (a standalone configuration must define
them itself, `icinga2 daemon -C` refuses it otherwise)."""

from __future__ import annotations


def preamble(plugin_dir: object, node_name: str, zone_name: str) -> str:
    """``const`` declarations and the ITL includes for one node."""
    return f"""\
const PluginDir = "{plugin_dir}"
const PluginContribDir = "{plugin_dir}"
const ManubulonPluginDir = "{plugin_dir}"
const NodeName = "{node_name}"
const ZoneName = "{zone_name}"
const TicketSalt = ""

include <itl>
include <plugins>
"""
