"""Rendering: the model to systemd units.

render.py walks the model item by item into a Plan; install.py makes `enable`'s links,
ordering.py decides what joins the boot transaction and what is deferred, internal.py writes
ccgen's own units, services.py the etcd/fleet/... settings as drop-ins.

Takes a CloudConfig; gives the entries of a Plan.
May import: ccgen.bootpath, ccgen.base, ccgen.read, ccgen.lang, and the providers'
descriptors (ccgen.providers.base, ccgen.providers.registry).  Nothing from ccgen.apply.
"""
