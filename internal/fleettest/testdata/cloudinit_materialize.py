# -*- coding: utf-8 -*-
# Does to a cloud-config what cloud-init does on an instance, under a root
# directory instead of /: its own cc_write_files and cc_runcmd handlers
# write the files and turn runcmd into the script cloud-init would run
# (scripts-user then executes it). Only the paths are moved under ROOT; the
# cloud object is a stub giving the instance's scripts directory and the
# distro's default owner.
#
# usage: cloudinit_materialize.py USER-DATA ROOT   (prints the script path)

import logging
import os
import sys

from cloudinit import util
from cloudinit.config import cc_runcmd, cc_write_files


class _Distro:
    default_owner = "root:root"


class _Cloud:
    def __init__(self, scripts):
        self.distro = _Distro()
        self._scripts = scripts

    def get_ipath(self, name):
        assert name == "scripts", name
        return self._scripts


def main():
    path, root = sys.argv[1], sys.argv[2]
    with open(path) as f:
        cfg = util.load_yaml(f.read())
    for item in cfg.get("write_files") or []:
        item["path"] = os.path.join(root, item["path"].lstrip("/"))
    scripts = os.path.join(root, "var/lib/cloud/instance/scripts")
    os.makedirs(scripts, exist_ok=True)
    log = logging.getLogger("materialize")
    cloud = _Cloud(scripts)
    cc_write_files.handle("write_files", cfg, cloud, log, [])
    cc_runcmd.handle("runcmd", cfg, cloud, log, [])
    print(os.path.join(scripts, "runcmd"))


if __name__ == "__main__":
    main()
